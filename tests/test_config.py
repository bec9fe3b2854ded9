"""The configuration loader: the bundled sample, located errors (file, line, key), discovery order, and
the per-field rules shared with the editor. Limits are Lambda's own (CreateFunction / UpdateFunctionConfiguration)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import lambdatui.config as config_module
from lambdatui.config import (
    ConfigError,
    find_config,
    load_config,
    validate_function_field,
)

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "lambdatui" / "sample" / "lambdatui.yaml"
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"


# -- helpers -------------------------------------------------------------------------------------


def write_config(tmp_path: Path, body: str, name: str = "lambdatui.yaml") -> Path:
    """Write a config (dedented) next to a `code/` folder holding a handler; return its path."""
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "app.py").write_text("def handler(event, context):\n    return event\n")
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip("\n"))
    return path


def function_config(tmp_path: Path, extra: str, name: str = "fn", runtime: str = PY) -> Path:
    """A one-function config whose function has the given extra (already indented by 6) lines."""
    body = (
        "backend: local\n"
        "local:\n"
        "  functions:\n"
        f"    {name}:\n"
        f"      runtime: {runtime}\n"
        "      handler: app.handler\n"
        "      code: code\n"
        + textwrap.indent(textwrap.dedent(extra).strip("\n"), "      ")
        + "\n"
    )
    return write_config(tmp_path, body)


def line_of(path: Path, needle: str) -> int:
    """The 1-based line number of the only line containing needle."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    assert len(hits) == 1, f"{needle!r} occurs on lines {hits}"
    return hits[0]


def load_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value


def assert_located(err: ConfigError, path: Path, line: int, key: str, text: str) -> None:
    message = str(err)
    assert str(path) in message, message
    assert f"{path}:{line}:" in message, message
    assert key in message, message
    assert text in message, message
    assert err.line == line and err.key == key


# -- the bundled sample --------------------------------------------------------------------------


def test_bundled_sample_config_loads_with_hello_world_first_and_documented_settings():
    cfg = load_config(SAMPLE)
    assert cfg.backend == "local"
    assert cfg.local.region == "us-east-1"
    assert cfg.local.account_id == "123456789012"
    names = list(cfg.local.functions)
    assert names[0] == "hello-world"
    assert set(names) >= {"hello-world", "api-gateway", "s3-processor", "heavy-init", "failing", "logging-demo"}
    hw = cfg.local.functions["hello-world"]
    assert hw.runtime == "python3.12"
    assert hw.handler == "app.lambda_handler"
    assert hw.memory_size == 128
    assert hw.timeout == 3
    assert hw.architecture == "x86_64"
    assert hw.environment == {"GREETING": "Hello"}
    assert hw.layer_dirs == ((REPO / "lambdatui" / "sample" / "examples" / "layers" / "common").resolve(),)
    assert hw.code_dir == (REPO / "lambdatui" / "sample" / "examples" / "hello_world").resolve()
    assert hw.reserved_concurrency is None
    assert hw.provisioned_concurrency == 0
    assert hw.line == line_of(SAMPLE, "hello-world:") + 1  # the mapping starts on the line after the key


def test_code_and_layers_resolve_relative_to_config_file_not_cwd(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cfg = load_config(SAMPLE)
    assert cfg.local.functions["hello-world"].code_dir == (REPO / "lambdatui" / "sample" / "examples" / "hello_world").resolve()
    assert cfg.base_dir == SAMPLE.parent


def test_function_config_converts_to_executor_spec_with_same_settings():
    spec = load_config(SAMPLE).local.functions["hello-world"]
    assert spec.name == "hello-world"
    assert spec.code_dir == (REPO / "lambdatui" / "sample" / "examples" / "hello_world").resolve()
    assert spec.environment == {"GREETING": "Hello"}
    assert spec.layer_dirs == ((REPO / "lambdatui" / "sample" / "examples" / "layers" / "common").resolve(),)


def test_json_config_with_same_content_as_sample_loads_identically(tmp_path):
    # JSON is YAML: the same settings written as JSON give the same functions.
    data = yaml.safe_load(SAMPLE.read_text())
    (tmp_path / "examples").symlink_to(REPO / "lambdatui" / "sample" / "examples")
    path = tmp_path / "lambdatui.json"
    path.write_text(json.dumps(data, indent=2))
    from_json = load_config(path)
    from_yaml = load_config(SAMPLE)
    assert from_json.backend == from_yaml.backend
    assert from_json.aws == from_yaml.aws
    assert list(from_json.local.functions) == list(from_yaml.local.functions)
    for name, f in from_yaml.local.functions.items():
        j = from_json.local.functions[name]
        assert j == f, name


def test_empty_config_file_gives_defaults(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("")
    cfg = load_config(path)
    assert cfg.backend == "local" and cfg.local.functions == {} and cfg.path == path


# -- out-of-range values: file, line, key, rule --------------------------------------------------


@pytest.mark.parametrize(
    "setting, key, text",
    [
        # CreateFunction: MemorySize 128-10240, Timeout 1-900 (seconds).
        ("memory_size: 64", "memory_size", "64 is outside 128–10240 MB"),
        ("memory_size: 10241", "memory_size", "10241 is outside 128–10240 MB"),
        ("timeout: 0", "timeout", "0 is outside 1–900 s"),
        ("timeout: 901", "timeout", "901 is outside 1–900 s"),
        ("architecture: x86", "architecture", "'x86' is not one of x86_64, arm64"),
        ("reserved_concurrency: -1", "reserved_concurrency", "-1 is outside 0–900"),
        ("ephemeral_storage: 256", "ephemeral_storage", "256 is outside 512–10240 MB"),
    ],
)
def test_out_of_range_setting_is_a_config_error_naming_file_line_key_and_rule(tmp_path, setting, key, text):
    path = function_config(tmp_path, f"description: something\n{setting}\n")
    err = load_error(path)
    assert_located(err, path, line_of(path, setting), f"local.functions.fn.{key}", text)


def test_deprecated_runtime_python2_7_is_rejected_listing_supported_runtimes(tmp_path):
    path = function_config(tmp_path, "timeout: 3", runtime="python2.7")
    err = load_error(path)
    assert_located(err, path, line_of(path, "runtime:"), "local.functions.fn.runtime", "'python2.7' is not a Lambda runtime")
    assert "python3.12" in str(err)


def test_boolean_memory_size_is_rejected_not_read_as_1(tmp_path):
    path = function_config(tmp_path, "memory_size: true")
    err = load_error(path)
    assert_located(err, path, line_of(path, "memory_size"), "local.functions.fn.memory_size", "is outside 128–10240 MB")


def test_provisioned_concurrency_above_reserved_is_rejected_at_provisioned_line(tmp_path):
    # Lambda refuses PutProvisionedConcurrencyConfig beyond the function's reserved concurrency.
    path = function_config(tmp_path, "reserved_concurrency: 2\nprovisioned_concurrency: 3\n")
    err = load_error(path)
    assert_located(
        err, path, line_of(path, "provisioned_concurrency"), "local.functions.fn.provisioned_concurrency",
        "3 is more than reserved_concurrency (2)",
    )


def test_provisioned_concurrency_equal_to_reserved_is_accepted(tmp_path):
    path = function_config(tmp_path, "reserved_concurrency: 2\nprovisioned_concurrency: 2\n")
    f = load_config(path).local.functions["fn"]
    assert (f.reserved_concurrency, f.provisioned_concurrency) == (2, 2)


def test_reserved_concurrency_zero_is_accepted_meaning_always_throttled(tmp_path):
    path = function_config(tmp_path, "reserved_concurrency: 0")
    assert load_config(path).local.functions["fn"].reserved_concurrency == 0


# -- unknown keys and syntax ---------------------------------------------------------------------


def test_misspelt_function_key_suggests_the_right_one_with_its_line(tmp_path):
    path = function_config(tmp_path, "timeout: 5\nmemroy_size: 256\n")
    err = load_error(path)
    assert_located(err, path, line_of(path, "memroy_size"), "local.functions.fn.memroy_size", "unknown key")
    assert "did you mean 'memory_size'" in str(err)


def test_unknown_top_level_key_is_rejected_with_suggestion_and_line(tmp_path):
    path = write_config(tmp_path, "backend: local\nlocall:\n  region: us-east-1\n")
    err = load_error(path)
    assert_located(err, path, 2, "locall", "unknown key")
    assert "did you mean 'local'" in str(err)


def test_unknown_key_without_close_match_lists_allowed_keys(tmp_path):
    path = write_config(tmp_path, "backend: local\nzzzz: 1\n")
    err = load_error(path)
    assert_located(err, path, 2, "zzzz", "unknown key")
    assert "allowed: backend, aws, local" in str(err)


def test_duplicate_function_key_is_rejected(tmp_path):
    path = function_config(tmp_path, "timeout: 5\ntimeout: 6\n")
    err = load_error(path)
    assert "appears twice" in str(err)
    assert err.line == line_of(path, "timeout: 6")


def test_yaml_syntax_error_names_the_line_of_the_misindented_key(tmp_path):
    path = write_config(tmp_path, "backend: local\nlocal:\n  region: us-east-1\n   account_id: x\n")
    err = load_error(path)
    assert err.line == 4
    assert str(err) == f"{path}:4: YAML syntax error: mapping values are not allowed here"


def test_yaml_tab_indentation_error_names_the_tab_line(tmp_path):
    path = write_config(tmp_path, "backend: local\nlocal:\n\tregion: us-east-1\n")
    err = load_error(path)
    assert err.line == 3 and f"{path}:3: YAML syntax error" in str(err)


def test_yaml_syntax_error_from_cli_is_one_line_exit_2_without_traceback(tmp_path):
    path = write_config(tmp_path, "backend: local\nlocal:\n  functions: {\n    fn: [1, 2\n")
    env = {k: v for k, v in os.environ.items() if k != "LAMBDATUI_CONFIG"}
    env["LAMBDATUI_STATE_DIR"] = str(tmp_path / "state")
    proc = subprocess.run(
        [sys.executable, "-m", "lambdatui", "list", "--config", str(path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("lambdatui: config error:")
    assert str(path) in lines[0] and "YAML syntax error" in lines[0]
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_non_mapping_top_level_is_rejected(tmp_path):
    path = write_config(tmp_path, "- a\n- b\n")
    err = load_error(path)
    assert "must be a mapping" in str(err) and err.line == 1


def test_invalid_backend_choice_is_rejected(tmp_path):
    path = write_config(tmp_path, "backend: gcp\n")
    assert_located(load_error(path), path, 1, "backend", "'gcp' is not one of: local, aws")


# -- environment ---------------------------------------------------------------------------------


def test_environment_reserved_key_aws_region_is_rejected(tmp_path):
    # Lambda reserves AWS_REGION etc.; UpdateFunctionConfiguration rejects them.
    path = function_config(tmp_path, "environment:\n  GOOD: ok\n  AWS_REGION: eu-west-1\n")
    err = load_error(path)
    assert_located(
        err, path, line_of(path, "AWS_REGION"), "local.functions.fn.environment.AWS_REGION",
        "AWS_REGION is reserved by Lambda",
    )


@pytest.mark.parametrize("bad", ["1ABC", "MY-VAR", "has space", "X"])
def test_environment_invalid_variable_name_is_rejected(tmp_path, bad):
    # Lambda's key pattern is [a-zA-Z]([a-zA-Z0-9_])+ (so a single letter is not accepted either).
    path = function_config(tmp_path, f'environment:\n  "{bad}": v\n')
    err = load_error(path)
    assert_located(
        err, path, line_of(path, f'"{bad}"'), f"local.functions.fn.environment.{bad}", "is not a valid variable name",
    )


def test_environment_valid_names_accepted(tmp_path):
    path = function_config(tmp_path, "environment:\n  ab: 1\n  A_1: x\n  LOG_LEVEL: INFO\n")
    assert load_config(path).local.functions["fn"].environment == {"ab": "1", "A_1": "x", "LOG_LEVEL": "INFO"}


def test_environment_over_4_kb_total_is_rejected(tmp_path):
    # Lambda: the total size of all environment variables may not exceed 4 KB.
    path = function_config(tmp_path, f"environment:\n  A_1: {'x' * 2100}\n  B_2: {'y' * 2100}\n")
    err = load_error(path)
    # Located at the environment block: its key's line or the mapping's first line (where PyYAML starts the node).
    assert err.line in (line_of(path, "environment:"), line_of(path, "A_1:")), str(err)
    assert_located(err, path, err.line, "local.functions.fn.environment", "over Lambda's 4 KB limit")
    assert "4206 bytes" in str(err)  # keys and values, UTF-8 encoded: 3 + 2100 + 3 + 2100


def test_environment_of_exactly_4096_bytes_is_accepted(tmp_path):
    path = function_config(tmp_path, f"environment:\n  AB: {'x' * (4096 - 2)}\n")
    assert len(load_config(path).local.functions["fn"].environment["AB"]) == 4094


def test_environment_numeric_and_boolean_values_are_coerced_to_strings(tmp_path):
    path = function_config(tmp_path, "environment:\n  PORT: 8080\n  RATIO: 0.5\n  DEBUG: true\n  EMPTY:\n")
    env = load_config(path).local.functions["fn"].environment
    assert env == {"PORT": "8080", "RATIO": "0.5", "DEBUG": "true", "EMPTY": ""}
    assert all(isinstance(v, str) for v in env.values())


def test_environment_list_value_is_rejected(tmp_path):
    path = function_config(tmp_path, "environment:\n  LIST: [1, 2]\n")
    err = load_error(path)
    assert_located(err, path, line_of(path, "LIST"), "local.functions.fn.environment.LIST", "must be a single value")


# -- code and layers -----------------------------------------------------------------------------


def test_missing_code_folder_is_an_error_naming_code_key_and_line(tmp_path):
    path = function_config(tmp_path, "")
    path.write_text(path.read_text().replace("code: code", "code: no_such_dir"))
    err = load_error(path)
    assert_located(err, path, line_of(path, "code: no_such_dir"), "local.functions.fn.code", "'no_such_dir' is not a folder")
    assert str((tmp_path / "no_such_dir").resolve()) in str(err)


def test_code_key_is_required(tmp_path):
    path = function_config(tmp_path, "")
    path.write_text(path.read_text().replace("      code: code\n", ""))
    err = load_error(path)
    assert "code: is required" in str(err) and err.key == "local.functions.fn"


def test_missing_layer_folder_is_an_error_naming_its_index(tmp_path):
    path = function_config(tmp_path, "layers: [code, missing_layer]")
    err = load_error(path)
    assert_located(err, path, line_of(path, "layers:"), "local.functions.fn.layers[1]", "'missing_layer' is not a folder")


def test_invalid_function_name_is_rejected(tmp_path):
    path = function_config(tmp_path, "", name="bad.name")
    err = load_error(path)
    assert_located(err, path, line_of(path, "bad.name:"), "local.functions.bad.name", "1-64 letters, digits, hyphens or underscores")


# -- discovery order -----------------------------------------------------------------------------


@pytest.fixture
def discovery(tmp_path, monkeypatch):
    """Four candidate configs (explicit, $LAMBDATUI_CONFIG, ./lambdatui.yaml, user dir) and a cwd."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    files = {}
    for label in ("explicit", "env", "user"):
        d = tmp_path / label
        d.mkdir()
        files[label] = d / "config.yaml"
        files[label].write_text(f"local: {{region: {label}-1}}\n")
    files["cwd"] = cwd / "lambdatui.yaml"
    files["cwd"].write_text("local: {region: cwd-1}\n")
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("LAMBDATUI_CONFIG", str(files["env"]))
    monkeypatch.setattr(config_module, "user_config_path", lambda: files["user"])
    return files


def test_discovery_explicit_config_beats_everything(discovery):
    assert find_config(discovery["explicit"]) == discovery["explicit"]
    assert load_config(str(discovery["explicit"])).local.region == "explicit-1"


def test_discovery_env_var_beats_cwd_user_and_sample(discovery):
    assert find_config() == discovery["env"]
    assert load_config().local.region == "env-1"


def test_discovery_cwd_lambdatui_yaml_beats_user_dir_and_sample(discovery, monkeypatch):
    monkeypatch.delenv("LAMBDATUI_CONFIG")
    assert find_config().resolve() == discovery["cwd"].resolve()
    assert load_config().local.region == "cwd-1"


def test_discovery_user_config_dir_beats_sample(discovery, monkeypatch):
    monkeypatch.delenv("LAMBDATUI_CONFIG")
    discovery["cwd"].unlink()
    assert find_config() == discovery["user"]
    assert load_config().local.region == "user-1"


def test_discovery_falls_back_to_a_user_copy_of_the_sample_never_the_package(discovery, monkeypatch, tmp_path):
    monkeypatch.delenv("LAMBDATUI_CONFIG")
    monkeypatch.setenv("LAMBDATUI_SAMPLE_DIR", str(tmp_path / "data" / "sample"))
    discovery["cwd"].unlink()
    discovery["user"].unlink()
    found = find_config()
    assert found == tmp_path / "data" / "sample" / "lambdatui.yaml"
    assert found.read_bytes() == SAMPLE.read_bytes()  # a copy of the bundled sample...
    assert not found.resolve().is_relative_to(SAMPLE.parent.resolve())  # ...outside the package
    config = load_config()
    assert "hello-world" in config.local.functions
    assert config.local.functions["hello-world"].code_dir.is_relative_to(tmp_path / "data" / "sample")
    assert find_config() == found  # made once, then reused


def test_discovery_empty_env_var_is_ignored(discovery, monkeypatch):
    monkeypatch.setenv("LAMBDATUI_CONFIG", "")
    assert find_config().resolve() == discovery["cwd"].resolve()


def test_missing_explicit_config_file_is_an_error_not_a_fallback(discovery, tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        find_config(missing)
    assert str(missing) in str(info.value) and "no such config file" in str(info.value)


def test_missing_env_var_config_file_is_an_error_not_a_fallback(discovery, tmp_path, monkeypatch):
    missing = tmp_path / "gone.yaml"
    monkeypatch.setenv("LAMBDATUI_CONFIG", str(missing))
    with pytest.raises(ConfigError) as info:
        load_config()
    assert str(missing) in str(info.value) and "LAMBDATUI_CONFIG" in str(info.value)


def test_default_user_config_path_is_config_yaml_in_lambdatui_dir():
    p = config_module.user_config_path()
    assert p.name == "config.yaml" and "lambdatui" in p.parent.name.lower()


# -- validate_function_field (the editor's rules) ------------------------------------------------


@pytest.mark.parametrize("value, expected", [(128, 128), (10240, 10240), ("512", 512), (3008, 3008)])
def test_validate_memory_size_accepts_128_to_10240(value, expected):
    assert validate_function_field("memory_size", value) == expected


@pytest.mark.parametrize("value", [127, 10241, 0, -128, True, "lots", 256.5, None])
def test_validate_memory_size_rejects_outside_128_to_10240(value):
    with pytest.raises(ValueError, match="outside 128–10240 MB"):
        validate_function_field("memory_size", value)


@pytest.mark.parametrize("value", [1, 900, "30"])
def test_validate_timeout_accepts_1_to_900_seconds(value):
    assert validate_function_field("timeout", value) == int(value)


@pytest.mark.parametrize("value", [0, 901, -1, False])
def test_validate_timeout_rejects_outside_1_to_900(value):
    with pytest.raises(ValueError, match="outside 1–900 s"):
        validate_function_field("timeout", value)


def test_validate_architecture_and_runtime():
    assert validate_function_field("architecture", "arm64") == "arm64"
    assert validate_function_field("runtime", "python3.12") == "python3.12"
    with pytest.raises(ValueError):
        validate_function_field("architecture", "aarch64")
    with pytest.raises(ValueError):
        validate_function_field("runtime", "python2.7")


def test_validate_reserved_concurrency_allows_null_and_zero_but_not_negative():
    assert validate_function_field("reserved_concurrency", None) is None
    assert validate_function_field("reserved_concurrency", 0) == 0
    with pytest.raises(ValueError, match="outside 0–900"):
        validate_function_field("reserved_concurrency", -1)


def test_validate_handler_rejects_empty_and_over_128_chars():
    assert validate_function_field("handler", "app.lambda_handler") == "app.lambda_handler"
    with pytest.raises(ValueError):
        validate_function_field("handler", "  ")
    with pytest.raises(ValueError, match="128"):
        validate_function_field("handler", "a." + "h" * 127)


def test_validate_unknown_field_is_rejected():
    with pytest.raises(ValueError, match="unknown setting"):
        validate_function_field("memroy_size", 256)


# -- regressions: bugs found while writing these tests, now fixed ------------------------------


def test_config_file_that_is_not_utf8_is_a_config_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("local:\n  region: café\n".encode("latin-1"))
    err = load_error(path)
    assert str(path) in str(err) and "utf-8" in str(err).lower()


def test_environment_name_with_trailing_newline_is_rejected(tmp_path):
    path = function_config(tmp_path, 'environment: {"AB\\n": x}')
    err = load_error(path)
    assert "is not a valid variable name" in str(err)


def test_function_name_with_trailing_newline_is_rejected(tmp_path):
    path = function_config(tmp_path, "", name='"fn\\n"')
    err = load_error(path)
    assert "1-64 letters, digits, hyphens or underscores" in str(err)


def test_yaml_merge_keys_share_settings_between_functions(tmp_path):
    (tmp_path / "fn").mkdir()
    path = tmp_path / "lambdatui.yaml"
    path.write_text(
        "local:\n"
        "  functions:\n"
        "    a: &base {runtime: python3.12, handler: app.handler, code: fn, memory_size: 256}\n"
        "    b:\n"
        "      <<: *base\n"
        "      timeout: 9\n"
    )
    config = load_config(path)
    b = config.local.functions["b"]
    assert (b.memory_size, b.timeout, b.handler) == (256, 9, "app.handler")


def test_reserved_concurrency_leaves_100_unreserved_as_aws_requires():
    assert validate_function_field("reserved_concurrency", 900) == 900
    with pytest.raises(ValueError, match="outside 0–900"):
        validate_function_field("reserved_concurrency", 901)


def test_a_config_nested_too_deeply_is_a_config_error_naming_the_file(tmp_path):
    path = tmp_path / "lambdatui.yaml"
    path.write_text("local: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "nested too deeply" in str(info.value) and str(path) in str(info.value)
