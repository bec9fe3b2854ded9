"""The Node.js runtime (node_bootstrap.cjs): what a handler sees and what an invoke returns, as on Lambda.

Each test names the behaviour of AWS's Node.js runtime (aws-lambda-nodejs-runtime-interface-client)
it checks. Functions are written into temporary folders as `index.js`/`index.mjs`/… files.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import textwrap
import uuid

import pytest

from lambdatui.executor import FunctionSpec

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not on PATH")


def _node_major() -> str:
    if NODE is None:
        return "20"
    version = subprocess.run([NODE, "--version"], capture_output=True, text=True).stdout.strip()
    return version.lstrip("v").split(".")[0]


MAJOR = _node_major()
RUNTIME = f"nodejs{MAJOR}.x"  # the runtime matching the local Node.js, so no version warning
OTHER_RUNTIME = "nodejs22.x" if MAJOR != "22" else "nodejs20.x"
TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture
def node_function(tmp_path):
    """Write a Node.js function's files into a fresh folder and return its FunctionSpec."""
    counter = iter(range(1000))

    def make(files: dict[str, str], handler: str = "index.handler", **settings) -> FunctionSpec:
        n = next(counter)
        code = tmp_path / f"node{n}"
        code.mkdir()
        for name, source in files.items():
            path = code / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source))
        settings.setdefault("runtime", RUNTIME)
        return FunctionSpec(name=f"node{n}", handler=handler, code=code, **settings)

    return make


def _payload(result):
    return json.loads(result.payload)


def _stream(ex, name):
    """Every event of the function's log stream(s), in order."""
    return [e.message for e in ex.logs.events(name)]


# -- lifecycle -------------------------------------------------------------------------------------


def test_module_code_runs_once_per_environment_and_warm_invokes_reuse_the_process(node_function, executor_factory):
    spec = node_function({"index.js": """
        let count = 0;
        console.log('module loaded');
        exports.handler = async () => ({ pid: process.pid, count: ++count });
    """})
    ex = executor_factory(spec)
    first, second = ex.invoke(spec.name), ex.invoke(spec.name)
    assert first.cold_start and not second.cold_start
    assert _payload(first)["pid"] == _payload(second)["pid"]
    assert [_payload(first)["count"], _payload(second)["count"]] == [1, 2]
    loads = [e.message for e in ex.logs.events(spec.name) if e.message.endswith("module loaded")]
    # Logged during init, before any request: AWS's runtime prints the request id as "undefined".
    assert len(loads) == 1 and re.fullmatch(rf"{TS}\tundefined\tINFO\tmodule loaded", loads[0])


def test_async_handler_result_is_the_response(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = async (event) => ({ got: event, n: 1.5 });\n"})
    result = executor_factory(spec).invoke(spec.name, b'{"a": [1, 2]}')
    assert result.ok and _payload(result) == {"got": {"a": [1, 2]}, "n": 1.5}


def test_undefined_result_is_json_null(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = async () => {};\n"})
    assert executor_factory(spec).invoke(spec.name).payload == b"null"


def test_callback_result_waits_for_the_empty_event_loop(node_function, executor_factory):
    # callbackWaitsForEmptyEventLoop defaults to true: the timer still runs inside this invocation.
    spec = node_function({"index.js": """
        exports.handler = (event, context, callback) => {
            setTimeout(() => console.log('timer fired'), 200);
            callback(null, { waits: context.callbackWaitsForEmptyEventLoop });
        };
    """})
    result = executor_factory(spec).invoke(spec.name)
    assert result.ok and _payload(result) == {"waits": True}
    assert result.duration_ms >= 190
    assert result.log_tail.index("timer fired") < result.log_tail.index("END RequestId")


def test_callback_answers_at_once_when_not_waiting_for_the_event_loop(node_function, executor_factory):
    spec = node_function({"index.js": """
        exports.handler = (event, context, callback) => {
            context.callbackWaitsForEmptyEventLoop = false;
            setTimeout(() => console.log('later'), 3000);
            callback(null, 'now');
        };
    """})
    result = executor_factory(spec).invoke(spec.name)
    assert result.payload == b'"now"' and result.duration_ms < 2000  # not after the timer


def test_callback_handlers_get_aws_deprecation_warning_at_init(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = (e, c, cb) => cb(null, 1);\n"})
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    # Logged at init: in the log stream before START, not in the invoke's tail.
    events = _stream(ex, spec.name)
    start = events.index(f"START RequestId: {result.request_id} Version: $LATEST")
    assert any(re.match(rf"{TS}\tundefined\tWARN\tAWS Lambda plans to remove support for callback-based function handlers", m) for m in events[:start])
    assert "AWS Lambda plans to remove" not in result.log_tail


def test_sync_handler_that_never_calls_back_answers_null_when_the_loop_empties(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = (event, context) => { setTimeout(() => {}, 50); return 'ignored'; };\n"})
    result = executor_factory(spec).invoke(spec.name)
    assert result.ok and result.payload == b"null"


def test_async_handler_whose_promise_never_settles_is_runtime_nodejsexit(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = async () => new Promise(() => {});\n"})
    result = executor_factory(spec).invoke(spec.name)
    assert result.error_type == "Runtime.NodeJsExit"
    assert _payload(result)["errorMessage"].startswith("The Lambda runtime client detected an unexpected Node.js exit code.")


def test_context_succeed_answers_at_once(node_function, executor_factory):
    spec = node_function({"index.js": """
        exports.handler = (event, context) => { setTimeout(() => {}, 3000); context.succeed({ ok: 1 }); };
    """})
    result = executor_factory(spec).invoke(spec.name)
    assert _payload(result) == {"ok": 1} and result.duration_ms < 2000  # not after the timer


# -- errors ----------------------------------------------------------------------------------------


def test_callback_error_is_unhandled_with_type_message_and_trace(node_function, executor_factory):
    spec = node_function({"index.js": """
        exports.handler = (event, context, callback) => {
            callback(new TypeError('bad input'));
        };
    """})
    result = executor_factory(spec).invoke(spec.name)
    assert result.status_code == 200 and result.function_error == "Unhandled"
    assert result.error_type == "TypeError"
    body = _payload(result)
    assert list(body) == ["errorType", "errorMessage", "trace"]  # AWS's Node runtime's shape and order
    assert body["errorType"] == "TypeError" and body["errorMessage"] == "bad input"
    assert body["trace"][0] == "TypeError: bad input"
    assert f"({spec.code_dir}/index.js:3:14)" in body["trace"][1]


def test_callback_with_a_string_error_has_type_string(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = (e, c, cb) => cb('nope');\n"})
    assert _payload(executor_factory(spec).invoke(spec.name)) == {"errorType": "string", "errorMessage": "nope", "trace": []}


def test_error_thrown_in_async_handler_is_logged_as_invoke_error_and_returned(node_function, executor_factory):
    spec = node_function({"index.mjs": """
        export const handler = async () => {
            const e = new RangeError('too far');
            e.code = 'E_FAR';
            throw e;
        };
    """})
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.function_error == "Unhandled" and result.error_type == "RangeError"
    body = _payload(result)
    assert body["errorMessage"] == "too far"
    assert body["trace"][:2] == ["RangeError: too far", f"    at Runtime.handler (file://{spec.code_dir}/index.mjs:3:15)"]
    # AWS's text format: "Invoke Error \t" then the error as JSON with errorType, errorMessage, code, stack.
    line = next(e.message for e in ex.logs.events(spec.name) if "\tERROR\tInvoke Error" in e.message)
    prefix = f"\t{result.request_id}\tERROR\tInvoke Error \t"
    assert re.fullmatch(rf"{TS}{re.escape(prefix)}.*", line)
    logged = json.loads(line.split(prefix, 1)[1])
    assert list(logged) == ["errorType", "errorMessage", "code", "stack"]
    assert logged["code"] == "E_FAR" and logged["stack"] == body["trace"]
    assert result.log_tail.index("Invoke Error") < result.log_tail.index("END RequestId")
    assert not ex.invoke(spec.name).cold_start  # a handler error keeps the environment


def test_unserialisable_result_is_unable_to_stringify_response_body(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = async () => { const a = {}; a.self = a; return a; };\n"})
    body = _payload(executor_factory(spec).invoke(spec.name))
    assert (body["errorType"], body["errorMessage"]) == ("Error", "Unable to stringify response body")


def test_unhandled_rejection_is_runtime_unhandled_promise_rejection(node_function, executor_factory):
    spec = node_function({"index.js": """
        exports.handler = async () => {
            Promise.reject(new Error('lost'));
            await new Promise((r) => setTimeout(r, 1000));
        };
    """})
    result = executor_factory(spec).invoke(spec.name)
    body = _payload(result)
    assert (body["errorType"], body["errorMessage"]) == ("Runtime.UnhandledPromiseRejection", "Error: lost")
    assert re.search(r"\tERROR\tUnhandled Promise Rejection \t\{\"errorType\":\"Runtime.UnhandledPromiseRejection\"", result.log_tail)
    assert result.duration_ms < 900


def test_uncaught_exception_in_a_timer_fails_the_invocation(node_function, executor_factory):
    spec = node_function({"index.js": """
        exports.handler = async () => {
            setTimeout(() => { throw new Error('from timer'); }, 10);
            await new Promise((r) => setTimeout(r, 1000));
        };
    """})
    result = executor_factory(spec).invoke(spec.name)
    assert result.error_type == "Error" and _payload(result)["errorMessage"] == "from timer"
    assert "\tERROR\tUncaught Exception \t" in result.log_tail


# -- the context object and the environment ----------------------------------------------------------


def test_context_fields_match_aws_nodejs_runtime(node_function, executor_factory):
    spec = node_function({"index.js": """
        exports.handler = async (event, context) => ({
            keys: Object.keys(context),
            functionName: context.functionName,
            functionVersion: context.functionVersion,
            invokedFunctionArn: context.invokedFunctionArn,
            memoryLimitInMB: context.memoryLimitInMB,
            awsRequestId: context.awsRequestId,
            logGroupName: context.logGroupName,
            logStreamName: context.logStreamName,
            identity: context.identity === undefined ? 'undefined' : context.identity,
            clientContext: context.clientContext === undefined ? 'undefined' : context.clientContext,
            remaining: context.getRemainingTimeInMillis(),
            waits: context.callbackWaitsForEmptyEventLoop,
            trace: process.env._X_AMZN_TRACE_ID,
            execEnv: process.env.AWS_EXECUTION_ENV,
        });
    """}, memory_size=256, timeout=7)
    ex = executor_factory(spec, region="eu-west-1", account_id="210987654321")
    result = ex.invoke(spec.name)
    ctx = _payload(result)
    assert ctx["keys"] == [
        "callbackWaitsForEmptyEventLoop", "succeed", "fail", "done", "functionVersion", "functionName",
        "memoryLimitInMB", "logGroupName", "logStreamName", "clientContext", "identity",
        "invokedFunctionArn", "awsRequestId", "tenantId", "getRemainingTimeInMillis",
    ]
    assert ctx["functionName"] == spec.name
    assert ctx["functionVersion"] == "$LATEST"
    assert ctx["invokedFunctionArn"] == f"arn:aws:lambda:eu-west-1:210987654321:function:{spec.name}"
    assert ctx["memoryLimitInMB"] == "256"  # a string in AWS's Node.js runtime
    assert ctx["awsRequestId"] == result.request_id and uuid.UUID(ctx["awsRequestId"]).version == 4
    assert ctx["logGroupName"] == f"/aws/lambda/{spec.name}"
    assert ctx["logStreamName"] == result.log_stream_name
    assert ctx["identity"] == "undefined" and ctx["clientContext"] == "undefined"  # absent headers: undefined
    assert 6000 < ctx["remaining"] <= 7000
    assert ctx["waits"] is True
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0;Lineage=.*", ctx["trace"])
    assert ctx["execEnv"] == f"AWS_Lambda_{RUNTIME}"
    second = _payload(ex.invoke(spec.name))
    assert second["awsRequestId"] != ctx["awsRequestId"] and second["trace"] != ctx["trace"]  # per invoke


def test_client_context_and_identity_are_parsed_from_the_invoke(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = async (e, c) => ({ cc: c.clientContext, id: c.identity });\n"})
    result = executor_factory(spec).invoke(
        spec.name,
        client_context={"custom": {"k": "v"}, "client": {"app_title": "t"}},
        identity={"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"},
    )
    assert _payload(result) == {
        "cc": {"custom": {"k": "v"}, "client": {"app_title": "t"}},
        "id": {"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"},
    }


# -- logging ---------------------------------------------------------------------------------------


def test_console_lines_have_aws_text_format_and_levels(node_function, executor_factory):
    spec = node_function({"index.js": """
        exports.handler = async () => {
            console.log('hello');
            console.info('n=%d', 42);
            console.warn('careful');
            console.error('bad', { a: 1 });
            console.debug('dbg');
            console.trace('trc');
            console.log('two\\nlines');
            return 1;
        };
    """})
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    rid = re.escape(result.request_id)
    tail = result.log_tail
    assert re.search(rf"^{TS}\t{rid}\tINFO\thello$", tail, re.M)
    assert re.search(rf"^{TS}\t{rid}\tINFO\tn=42$", tail, re.M)
    assert re.search(rf"^{TS}\t{rid}\tWARN\tcareful$", tail, re.M)
    assert re.search(rf"^{TS}\t{rid}\tERROR\tbad {{ a: 1 }}$", tail, re.M)
    assert re.search(rf"^{TS}\t{rid}\tDEBUG\tdbg$", tail, re.M)
    assert re.search(rf"^{TS}\t{rid}\tTRACE\ttrc$", tail, re.M)
    # One call is one log event, its newline kept: AWS's runtime writes it as one frame to its
    # telemetry descriptor (LogPatch.js logTextToFd).
    assert any(re.fullmatch(rf"{TS}\t{rid}\tINFO\ttwo\nlines", m) for m in _stream(ex, spec.name))
    assert re.search(rf"^{TS}\t{rid}\tINFO\ttwo\nlines$", tail, re.M) and "\r" not in tail
    assert tail.index("\tINFO\thello") < tail.index("END RequestId")


def test_log_level_filter_and_json_format(node_function, executor_factory):
    spec = node_function(
        {"index.js": "exports.handler = async () => { console.debug('hidden'); console.info('shown'); return 1; };\n"},
        environment={"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"},
    )
    result = executor_factory(spec).invoke(spec.name)
    assert "hidden" not in result.log_tail
    line = next(line for line in result.log_tail.splitlines() if "shown" in line)
    entry = json.loads(line)
    assert list(entry) == ["timestamp", "level", "requestId", "message"]
    assert (entry["level"], entry["requestId"], entry["message"]) == ("INFO", result.request_id, "shown")


# -- loading the handler ---------------------------------------------------------------------------


def test_mjs_handler_is_an_es_module(node_function, executor_factory):
    spec = node_function({"index.mjs": "export const handler = async () => ({ esm: typeof require === 'undefined' });\n"})
    assert _payload(executor_factory(spec).invoke(spec.name)) == {"esm": True}


def test_js_in_a_type_module_package_is_an_es_module(node_function, executor_factory):
    spec = node_function({
        "package.json": '{"type": "module"}',
        "index.js": "import { sep } from 'node:path';\nexport const handler = async () => ({ esm: typeof module === 'undefined', sep });\n",
    })
    assert _payload(executor_factory(spec).invoke(spec.name)) == {"esm": True, "sep": "/"}


def test_js_without_type_module_is_commonjs(node_function, executor_factory):
    spec = node_function({
        "lib.js": "module.exports = { twice: (n) => 2 * n };\n",
        "index.js": "const lib = require('./lib');\nmodule.exports.handler = async (e) => ({ cjs: typeof require === 'function', v: lib.twice(e.n) });\n",
    })
    assert _payload(executor_factory(spec).invoke(spec.name, b'{"n": 21}')) == {"cjs": True, "v": 42}


def test_cjs_extension_is_commonjs(node_function, executor_factory):
    spec = node_function({"index.cjs": "exports.handler = async () => 'cjs';\n"})
    assert executor_factory(spec).invoke(spec.name).payload == b'"cjs"'


def test_handler_in_a_subfolder(node_function, executor_factory):
    spec = node_function({"src/index.js": "exports.handler = async () => __dirname;\n"}, handler="src/index.handler")
    assert _payload(executor_factory(spec).invoke(spec.name)) == str(spec.code_dir / "src")


def test_nested_handler_property_after_the_first_dot(node_function, executor_factory):
    spec = node_function({"index.js": "exports.api = { v1: { get: async () => 'nested' } };\n"}, handler="index.api.v1.get")
    assert executor_factory(spec).invoke(spec.name).payload == b'"nested"'


def _assert_init_error(ex, spec, error_type, message):
    result = ex.invoke(spec.name)
    assert result.function_error == "Unhandled" and result.error_type == error_type
    body = _payload(result)
    assert body["errorType"] == error_type
    assert body["errorMessage"] == message if isinstance(message, str) else message.match(body["errorMessage"])
    # Logged as AWS's runtime does: "Uncaught Exception", before any request id exists; it and
    # INIT_REPORT come before START (recorded on AWS), so they are in the stream, not in the tail.
    events = _stream(ex, spec.name)
    start = events.index(f"START RequestId: {result.request_id} Version: $LATEST")
    assert any(re.match(rf"{TS}\tundefined\tERROR\tUncaught Exception \t\{{\"errorType\":\"{re.escape(error_type)}\"", m) for m in events[:start])
    assert re.fullmatch(rf"INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: {re.escape(error_type)}", events[start - 1])
    assert result.log_tail.startswith(events[start]) and "Uncaught Exception" not in result.log_tail
    assert result.log_tail.endswith(f"\tMax Memory Used: {result.max_memory_used_mb} MB\tStatus: error\tError Type: {error_type}\n")
    assert result.max_memory_used_mb > 0
    assert ex.invoke(spec.name).cold_start  # the environment was reset
    return body


def test_missing_module_is_runtime_import_module_error(node_function, executor_factory):
    spec = node_function({"other.js": "exports.handler = async () => 1;\n"})
    ex = executor_factory(spec)
    body = _assert_init_error(ex, spec, "Runtime.ImportModuleError", re.compile(r"Error: Cannot find module 'index'\nRequire stack:\n- /.*node_bootstrap\.cjs$"))
    assert body["trace"][:2] == ["Runtime.ImportModuleError: Error: Cannot find module 'index'", "Require stack:"]


def test_missing_dependency_of_a_commonjs_module_is_import_module_error(node_function, executor_factory):
    spec = node_function({"index.js": "require('left-pad');\nexports.handler = async () => 1;\n"})
    ex = executor_factory(spec)
    _assert_init_error(
        ex, spec, "Runtime.ImportModuleError",
        re.compile(rf"Error: Cannot find module 'left-pad'\nRequire stack:\n- {re.escape(str(spec.code_dir))}/index\.js\n- /.*node_bootstrap\.cjs$"),
    )


def test_missing_export_is_runtime_handler_not_found(node_function, executor_factory):
    spec = node_function({"index.js": "exports.other = async () => 1;\n"})
    _assert_init_error(executor_factory(spec), spec, "Runtime.HandlerNotFound", "index.handler is undefined or not exported")


def test_export_that_is_not_a_function_is_handler_not_found(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = 42;\n"})
    _assert_init_error(executor_factory(spec), spec, "Runtime.HandlerNotFound", "index.handler is not a function")


def test_handler_without_a_dot_is_malformed_handler_name(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = async () => 1;\n"}, handler="index")
    _assert_init_error(executor_factory(spec), spec, "Runtime.MalformedHandlerName", "Bad handler")


@pytest.mark.parametrize("filename", ["index.js", "index.mjs"])
def test_syntax_error_is_runtime_user_code_syntax_error(node_function, executor_factory, filename):
    spec = node_function({filename: "exports.handler = async () => {\n"})
    _assert_init_error(executor_factory(spec), spec, "Runtime.UserCodeSyntaxError", re.compile(r"SyntaxError: .+"))


def test_error_thrown_by_module_code_is_an_init_error_of_its_own_type(node_function, executor_factory):
    spec = node_function({"index.js": "throw new RangeError('bad config');\n"})
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.error_type == "RangeError" and _payload(result)["errorMessage"] == "bad config"
    assert any(re.match(r"INIT_REPORT .*\tStatus: error\t", m) for m in _stream(ex, spec.name))


# -- platform failures -----------------------------------------------------------------------------


def test_timeout_is_sandbox_timedout_and_the_next_invoke_is_a_suppressed_init(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = async (e) => e.hang ? new Promise((r) => setTimeout(r, 30000)) : process.pid;\n"}, timeout=1)
    ex = executor_factory(spec)
    first = ex.invoke(spec.name)
    result = ex.invoke(spec.name, b'{"hang": true}')
    assert result.function_error == "Unhandled"
    assert _payload(result) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds",
    }
    assert result.duration_ms == 1000.0
    assert re.search(r"^REPORT .*\tStatus: timeout$", result.log_tail, re.M)
    after = ex.invoke(spec.name)
    # Reset, not discarded: a new runtime process in the same environment, no INIT_START nor Init Duration.
    assert after.ok and _payload(after) != _payload(first)
    assert not after.cold_start and after.init_duration_ms is None and after.log_stream_name == first.log_stream_name
    assert sum(m.startswith("INIT_START") for m in _stream(ex, spec.name)) == 1


def test_memory_over_the_limit_is_runtime_out_of_memory(node_function, executor_factory):
    spec = node_function({"index.js": """
        exports.handler = async () => {
            const hog = [];
            while (true) hog.push(Buffer.alloc(8 * 1024 * 1024, 1));
        };
    """}, memory_size=128, timeout=20)
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.error_type == "Runtime.OutOfMemory"
    assert _payload(result) == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: signal: killed",
    }
    assert result.max_memory_used_mb == 128 and result.duration_ms < 5000
    after = ex.invoke(spec.name, b"{}")
    assert after.function_error == "Unhandled" and not after.cold_start  # a suppressed init, then the same failure


def test_process_exit_is_runtime_exit_error_with_its_status(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = async () => { process.exit(3); };\n"})
    result = executor_factory(spec).invoke(spec.name)
    assert _payload(result) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: exit status 3",
    }
    assert "\tStatus: error\tError Type: Runtime.ExitError" in result.log_tail


def test_process_exit_0_is_runtime_exited_without_providing_a_reason(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = async () => { process.exit(0); };\n"})
    result = executor_factory(spec).invoke(spec.name)
    assert _payload(result) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited without providing a reason",
    }


# -- figures and warnings --------------------------------------------------------------------------


def test_figures_are_reported_as_for_every_runtime(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = async () => new Promise((r) => setTimeout(() => r(1), 20));\n"})
    ex = executor_factory(spec)
    cold, warm = ex.invoke(spec.name), ex.invoke(spec.name)
    assert cold.init_duration_ms is not None and cold.init_duration_ms > 0
    assert warm.init_duration_ms is None
    for r in (cold, warm):
        assert r.duration_ms >= 19
        assert r.max_memory_used_mb > 10 and r.max_memory_used_mb <= r.memory_size_mb
        assert r.cost_usd > 0
    assert cold.billed_duration_ms == math.ceil(cold.duration_ms + cold.init_duration_ms)
    assert warm.billed_duration_ms == math.ceil(warm.duration_ms)
    assert re.search(rf"^REPORT RequestId: {cold.request_id}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms\t$", cold.log_tail, re.M)
    assert _stream(ex, spec.name)[0].startswith("INIT_START Runtime Version: nodejs:")
    assert cold.log_tail.startswith(f"START RequestId: {cold.request_id}")
    assert not cold.warnings


def test_runtime_version_other_than_the_local_node_is_warned_about(node_function, executor_factory):
    spec = node_function({"index.js": "exports.handler = async () => process.versions.node;\n"}, runtime=OTHER_RUNTIME)
    result = executor_factory(spec).invoke(spec.name)
    assert result.ok
    assert any(w.startswith(f"{OTHER_RUNTIME} runs under Node.js v{MAJOR}.") for w in result.warnings)


def test_streamed_response_is_returned_whole(node_function, executor_factory):
    spec = node_function({"index.mjs": """
        export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
            responseStream.setContentType('text/plain');
            responseStream.write('hello ');
            await new Promise((r) => setTimeout(r, 10));
            responseStream.write('world');
            responseStream.end();
        });
    """})
    ex = executor_factory(spec)
    assert ex.invoke(spec.name).payload == b"hello world"
    assert ex.invoke(spec.name).payload == b"hello world"


def test_the_telemetry_descriptor_is_taken_out_of_the_environment(node_function, executor_factory):
    # AWS's runtime deletes _LAMBDA_TELEMETRY_LOG_FD from process.env before loading the handler (LogPatch.js).
    spec = node_function({"index.js": "exports.handler = async () => '_LAMBDA_TELEMETRY_LOG_FD' in process.env;\n"})
    assert executor_factory(spec).invoke(spec.name).payload == b"false"


def test_global_gc_is_exposed_when_a_function_uses_it(node_function, executor_factory):
    # AWS starts node with --expose-gc; here gc is made on first use, which a function cannot tell apart.
    spec = node_function({"index.js": "exports.handler = async () => { global.gc(); return [typeof gc, 'gc' in globalThis]; };\n"})
    assert _payload(executor_factory(spec).invoke(spec.name)) == ["function", True]
