"""What a handler can see: the context object and the environment variables, as on Lambda."""

from __future__ import annotations

import json
import re
import sys
import time
import uuid

CONTEXT = """
import os
def handler(event, context):
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_context": None if context.client_context is None else {
            "custom": context.client_context.custom,
            "app_title": context.client_context.client.app_title,
        },
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
    }
"""

ENV = """
import os
def handler(event, context):
    return dict(os.environ)
"""


def test_context_object_matches_lambdas(make_function, executor_factory):
    spec = make_function(CONTEXT, name="ctx-fn", memory_size=256, timeout=7)
    ex = executor_factory(spec, region="eu-west-1", account_id="210987654321")
    result = ex.invoke("ctx-fn")
    ctx = json.loads(result.payload)
    assert ctx["function_name"] == "ctx-fn"
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == "arn:aws:lambda:eu-west-1:210987654321:function:ctx-fn"
    assert ctx["memory_limit_in_mb"] == "256"  # a string in AWS's Python runtime
    assert ctx["aws_request_id"] == result.request_id
    assert uuid.UUID(ctx["aws_request_id"]).version == 4
    assert ctx["log_group_name"] == "/aws/lambda/ctx-fn"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", ctx["log_stream_name"])
    assert ctx["log_stream_name"] == result.log_stream_name
    assert 6000 < ctx["remaining"] <= 7000
    assert ctx["identity"] == [None, None]
    assert ctx["client_context"] is None
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0;Lineage=.*", ctx["trace"])


def test_each_invoke_gets_a_new_request_id_and_trace(make_function, executor_factory):
    spec = make_function(CONTEXT)
    ex = executor_factory(spec)
    seen = [json.loads(ex.invoke(spec.name).payload) for _ in range(3)]
    assert len({s["aws_request_id"] for s in seen}) == 3
    assert len({s["trace"] for s in seen}) == 3
    assert len({s["log_stream_name"] for s in seen}) == 1  # one stream per environment


def test_a_callers_request_id_is_the_functions_aws_request_id(make_function, executor_factory):
    # Lambda keeps one request id for an asynchronous event across its attempts.
    spec = make_function(CONTEXT)
    ex = executor_factory(spec)
    rid = str(uuid.uuid4())
    first, second = ex.invoke(spec.name, request_id=rid), ex.invoke(spec.name, request_id=rid)
    assert first.request_id == second.request_id == rid
    assert json.loads(first.payload)["aws_request_id"] == rid
    assert f"START RequestId: {rid}" in first.log_tail


def test_a_qualifier_stays_in_invoked_function_arn(make_function, executor_factory):
    # Lambda: invoked_function_arn is "the ARN used to invoke this function", qualifier included.
    spec = make_function(CONTEXT, name="qual-fn")
    ex = executor_factory(spec, region="eu-west-1", account_id="210987654321")
    ctx = json.loads(ex.invoke("qual-fn", qualifier="$LATEST").payload)
    assert ctx["invoked_function_arn"] == "arn:aws:lambda:eu-west-1:210987654321:function:qual-fn:$LATEST"
    assert ctx["function_version"] == "$LATEST"


def test_deeply_nested_event_is_invalid_request_content_not_a_crash(make_function, executor_factory):
    from lambdatui.executor.executor import InvokeRequestError

    spec = make_function(CONTEXT)
    ex = executor_factory(spec)
    deep = b"[" * 100_000 + b"]" * 100_000
    try:
        ex.invoke(spec.name, deep)
    except InvokeRequestError as e:
        assert (e.status_code, e.error_type) == (400, "InvalidRequestContentException")
        assert "nesting too deep" in e.message
    else:
        raise AssertionError("a 100,000-deep event was accepted")


def test_client_context_and_cognito_identity_reach_the_context(make_function, executor_factory):
    spec = make_function(CONTEXT)
    ex = executor_factory(spec)
    result = ex.invoke(
        spec.name,
        client_context={"custom": {"k": "v"}, "client": {"app_title": "demo"}, "env": {}},
        identity={"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"},
    )
    ctx = json.loads(result.payload)
    assert ctx["client_context"] == {"custom": {"k": "v"}, "app_title": "demo"}
    assert ctx["identity"] == ["id-1", "pool-1"]


def test_remaining_time_counts_down(make_function, executor_factory):
    spec = make_function(
        """
        import time
        def handler(event, context):
            a = context.get_remaining_time_in_millis()
            time.sleep(0.2)
            return [a, context.get_remaining_time_in_millis()]
        """,
        timeout=2,
    )
    before, after = json.loads(executor_factory(spec).invoke(spec.name).payload)
    assert 150 <= before - after <= 400


def test_environment_has_lambdas_reserved_variables(make_function, executor_factory):
    spec = make_function(ENV, name="env-fn", memory_size=512, environment={"GREETING": "Hello"})
    ex = executor_factory(spec, region="ap-south-1")
    env = json.loads(ex.invoke("env-fn").payload)
    assert env["GREETING"] == "Hello"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "env-fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/env-fn"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "ap-south-1"
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{spec.runtime}"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"] == str(spec.code_dir)
    assert env["LAMBDA_RUNTIME_DIR"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["TZ"] == ":UTC" and env["LANG"] == "en_US.UTF-8"
    # Lambda's PATH, after the runtime's own bin folder (its /var/lang/bin; see test_sandbox_environment.py).
    assert env["PATH"].split(":", 1)[1] == "/usr/local/bin:/usr/bin/:/bin:/opt/bin"


def test_host_secrets_never_reach_a_function(make_function, executor_factory):
    host = {
        "AWS_ACCESS_KEY_ID": "AKIAHOSTKEY",
        "AWS_SECRET_ACCESS_KEY": "host-secret",
        "AWS_SESSION_TOKEN": "host-token",
        "AWS_PROFILE": "prod",
        "DATABASE_PASSWORD": "hunter2",
        "HOME": "/root",
        "PATH": "/host/bin",
    }
    spec = make_function(ENV)
    env = json.loads(executor_factory(spec, host_environ=host).invoke(spec.name).payload)
    leaked = {k for k, v in env.items() if v in host.values()}
    assert leaked == set()
    assert "AWS_SECRET_ACCESS_KEY" not in env and "DATABASE_PASSWORD" not in env and "HOME" not in env


def test_sdk_in_a_function_cannot_fall_back_to_host_credential_files(make_function, executor_factory):
    spec = make_function(
        """
        import boto3
        def handler(event, context):
            creds = boto3.Session().get_credentials()
            return None if creds is None else creds.access_key
        """
    )
    ex = executor_factory(spec, host_environ={"AWS_ACCESS_KEY_ID": "AKIAHOST", "AWS_SECRET_ACCESS_KEY": "x"})
    result = ex.invoke(spec.name)
    assert result.function_error is None, result.payload
    assert json.loads(result.payload) is None


def test_inherit_environment_is_the_explicit_opt_in(make_function, executor_factory):
    host = {"AWS_ACCESS_KEY_ID": "AKIAHOST", "AWS_SECRET_ACCESS_KEY": "s3cret", "OTHER": "no"}
    spec = make_function(ENV, inherit_environment=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
    env = json.loads(executor_factory(spec, host_environ=host).invoke(spec.name).payload)
    assert env["AWS_ACCESS_KEY_ID"] == "AKIAHOST" and env["AWS_SECRET_ACCESS_KEY"] == "s3cret"
    assert "OTHER" not in env


def test_boto3_is_importable_but_host_packages_are_not(make_function, executor_factory):
    # Lambda's Python runtime ships the SDK and nothing else: a handler that imports an unbundled
    # package must fail here as it would there.
    spec = make_function(
        """
        import importlib
        def handler(event, context):
            out = {}
            for name in ("boto3", "yaml", "textual", "pytest"):
                try:
                    importlib.import_module(name)
                    out[name] = True
                except ImportError:
                    out[name] = False
            return out
        """
    )
    seen = json.loads(executor_factory(spec).invoke(spec.name).payload)
    assert seen == {"boto3": True, "yaml": False, "textual": False, "pytest": False}


def test_only_the_functions_bytecode_goes_to_the_cache_folder(make_function, executor_factory, tmp_path):
    # The SDK and the standard library keep their installation's bytecode, shared by every cache
    # folder (compiling boto3 per folder cost ~1 s per cold start); the function's own bytecode is
    # kept out of its code folder, where the executor can clear it when the code changes.
    spec = make_function("import boto3, shared_util\ndef handler(e, c):\n    return shared_util.X\n")
    (spec.code_dir / "shared_util.py").write_text("X = 1\n")
    executor_factory(spec).invoke(spec.name)
    compiled = [p.relative_to(tmp_path / "cache" / "pycache").as_posix() for p in (tmp_path / "cache" / "pycache").rglob("*.pyc")]
    ours = spec.code_dir.resolve().relative_to("/").as_posix()
    assert {p.split(".")[0] for p in compiled if p.startswith(ours)} == {f"{ours}/app", f"{ours}/shared_util"}
    assert not [p for p in compiled if "/boto3/" in p or "/botocore/" in p or "/json/" in p or "/http/" in p]
    assert not list(spec.code_dir.rglob("*.pyc"))


def test_layers_are_importable_like_opt_python(make_function, executor_factory, tmp_path):
    layer = tmp_path / "layer"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "shared_lib.py").write_text("VALUE = 'from the layer'\n")
    spec = make_function("import shared_lib\ndef handler(e, c):\n    return shared_lib.VALUE\n", layers=(layer,))
    assert executor_factory(spec).invoke(spec.name).payload == b'"from the layer"'


def test_functions_run_in_utc(make_function, executor_factory):
    spec = make_function("import time\ndef handler(e, c):\n    return [time.localtime().tm_gmtoff, time.tzname[0]]\n")
    offset, name = json.loads(executor_factory(spec).invoke(spec.name).payload)
    assert offset == 0 and name == "UTC"


def test_working_directory_is_the_task_root(make_function, executor_factory):
    spec = make_function("import os\ndef handler(e, c):\n    return os.getcwd()\n")
    assert json.loads(executor_factory(spec).invoke(spec.name).payload) == str(spec.code_dir)


def test_missing_interpreter_falls_back_with_a_visible_warning(make_function, executor_factory, monkeypatch):
    from lambdatui.executor import runtimes

    runtimes.find_python.cache_clear()
    monkeypatch.setattr(runtimes.shutil, "which", lambda name: None)
    try:
        spec = make_function("def handler(e, c):\n    return 1\n", runtime="python3.9")
        result = executor_factory(spec).invoke(spec.name)
    finally:
        runtimes.find_python.cache_clear()
    assert result.payload == b"1"
    assert any("python3.9 was not found" in w for w in result.warnings)


def test_started_at_is_the_invoke_time(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    return 1\n")
    before = time.time()
    result = executor_factory(spec).invoke(spec.name)
    assert before <= result.started_at <= time.time()


LATE_OS = """
def handler(event, context):
    import os, subprocess, sys  # os imported late: the runtime itself does not import it
    child = subprocess.run(
        [sys.executable, "-S", "-c", "import os; print(os.environ.get('_X_AMZN_TRACE_ID'))"],
        capture_output=True, text=True,
    ).stdout.strip()
    hidden = [k for k in os.environ if k in ("_LAMBDA_TELEMETRY_LOG_FD", "_LAMBDATUI_CODE_ROOTS")]
    return {"trace": os.environ.get("_X_AMZN_TRACE_ID"), "child": child, "hidden": hidden}
"""


def test_the_trace_id_reaches_os_environ_and_child_processes_whenever_os_is_imported(make_function, executor_factory):
    spec = make_function(LATE_OS)
    ex = executor_factory(spec)
    seen = [json.loads(ex.invoke(spec.name).payload) for _ in range(3)]
    assert all(s["trace"] and s["child"] == s["trace"] for s in seen)
    assert len({s["trace"] for s in seen}) == 3  # set anew for each invoke, before and after `import os`
    # Taken out of the environment before the function runs, as AWS's runtime takes its own out.
    assert all(s["hidden"] == [] for s in seen)


def test_the_python_runtime_is_imported_from_bytecode_kept_in_the_cache_folder(make_function, executor_factory, tmp_path):
    # Imported, not run as a __main__ script (compiled on every cold start), and its bytecode kept
    # under the executor's cache folder, so that a read-only installation caches it too.
    spec = make_function("import sys\ndef handler(e, c):\n    return [sys.modules['python_bootstrap'].__name__, sys.path[0]]\n")
    name, first_path = json.loads(executor_factory(spec).invoke(spec.name).payload)
    assert name == "python_bootstrap"
    assert first_path == str(spec.code_dir)  # Lambda's sys.path starts at the task root
    cached = [p.name for p in (tmp_path / "cache" / "pycache").rglob("python_bootstrap.*.pyc")]
    assert cached == [f"python_bootstrap.{sys.implementation.cache_tag}.pyc"]
