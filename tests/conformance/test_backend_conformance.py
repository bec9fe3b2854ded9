"""What every backend promises the dashboard and the CLI (the `Backend` interface)."""

from __future__ import annotations

import asyncio
import json
import math
import time

import pytest

from lambdatui.backends import BackendError, FunctionNotFoundError, InvalidParameterError, RequestError

ECHO, FAILS = "conf-echo", "conf-fails"


def test_list_functions_returns_every_function_with_its_settings(backend):
    functions = {f.name: f for f in backend.list_functions()}
    assert {ECHO, FAILS} <= set(functions)
    echo = functions[ECHO]
    assert (echo.handler, echo.memory_size, echo.timeout) == ("app.handler", 128, 3)
    assert echo.runtime.startswith("python3")
    assert echo.arn.endswith(f":function:{ECHO}")
    assert echo.last_modified


def test_a_listed_configuration_is_a_copy_the_caller_may_change(backend):
    listed = {f.name: f for f in backend.list_functions()}[ECHO]
    listed.environment["GREETING"] = "changed by the caller"
    assert backend.get_function(ECHO).environment == {"GREETING": "Hello"}
    assert {f.name: f for f in backend.list_functions()}[ECHO].environment == {"GREETING": "Hello"}


def test_get_function_and_unknown_function(backend):
    assert backend.get_function(ECHO).environment == {"GREETING": "Hello"}
    with pytest.raises(FunctionNotFoundError):
        backend.get_function("conf-missing")


def test_update_function_changes_what_get_returns_and_what_the_function_sees(harness):
    backend = harness.backend
    updated = backend.update_function(ECHO, {"memory_size": 256, "timeout": 5, "environment": {"GREETING": "Hi"}, "description": "edited"})
    assert (updated.memory_size, updated.timeout, updated.description) == (256, 5, "edited")
    again = backend.get_function(ECHO)
    assert (again.memory_size, again.timeout, again.environment) == (256, 5, {"GREETING": "Hi"})
    if not harness.runs_handlers:
        return
    result = backend.invoke(ECHO, b"{}")
    assert json.loads(result.payload)["greeting"] == "Hi"
    assert result.memory_size_mb == 256


@pytest.mark.parametrize(
    "changes",
    [{"memory_size": 64}, {"timeout": 901}, {"environment": {"AWS_REGION": "x"}}, {"architecture": "sparc"}],
)
def test_invalid_update_is_refused_and_changes_nothing(backend, changes):
    before = backend.get_function(ECHO)
    with pytest.raises(InvalidParameterError):
        backend.update_function(ECHO, changes)
    assert backend.get_function(ECHO) == before


def test_invoke_returns_the_response_and_lambdas_figures(harness):
    backend = harness.backend
    if not harness.runs_handlers:
        result = backend.invoke(ECHO, b'{"n": 1}')
        assert result.status_code == 200 and json.loads(result.payload) == {"n": 1}  # moto echoes
        pytest.skip("this backend's test double runs no handler, so it has no figures")
    cold = backend.invoke(ECHO, b'{"n": 1}')
    warm = backend.invoke(ECHO, b'{"n": 2}')
    assert cold.status_code == 200 and cold.function_error is None
    assert json.loads(cold.payload) == {"event": {"n": 1}, "function": ECHO, "greeting": "Hello"}
    assert cold.cold_start and cold.init_duration_ms is not None
    assert not warm.cold_start and warm.init_duration_ms is None
    assert warm.billed_duration_ms >= math.ceil(warm.duration_ms)
    assert warm.memory_size_mb == 128 and 0 < warm.max_memory_used_mb <= 128
    assert warm.request_id and warm.request_id != cold.request_id
    assert f"START RequestId: {warm.request_id}" in warm.log_tail
    assert warm.cost_usd > 0


def test_function_error_is_reported_not_raised(harness):
    if not harness.runs_handlers:
        pytest.skip("this backend's test double runs no handler")
    backend = harness.backend
    result = backend.invoke(FAILS, b"{}")
    assert result.status_code == 200
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorType"] == "KeyError"


def test_event_and_dry_run_invocation_types(backend):
    assert backend.invoke(ECHO, b"{}", invocation_type="Event").status_code == 202
    assert backend.invoke(ECHO, b"{}", invocation_type="DryRun").status_code == 204


def test_invoke_refusals(harness):
    backend = harness.backend
    if harness.runs_handlers:  # moto 5.2 answers an invoke of a missing function with an echo
        with pytest.raises(FunctionNotFoundError):
            backend.invoke("conf-missing", b"{}")
    with pytest.raises(RequestError) as info:
        backend.invoke(ECHO, b'"' + b"x" * (6 * 1024 * 1024 + 1) + b'"')
    assert info.value.status_code == 413
    assert isinstance(info.value, BackendError)


async def _collect(iterator, count, timeout=10.0):
    out = []

    async def run():
        async for event in iterator:
            out.append(event)
            if len(out) >= count:
                return

    await asyncio.wait_for(run(), timeout)
    return out


async def test_tail_logs_returns_past_events_without_follow(harness):
    backend = harness.backend
    started = time.time()
    await asyncio.to_thread(harness.produce_log, ECHO, "past")
    events = [e async for e in backend.tail_logs(ECHO, since=started - 1, follow=False)]
    messages = [e.message for e in events]
    assert any("'marker': 'past'" in m for m in messages)
    assert all(e.timestamp >= started - 1 for e in events)


async def test_tail_logs_follows_new_events_live_with_a_filter(harness):
    backend = harness.backend
    iterator = backend.tail_logs(ECHO, since=time.time(), follow=True, filter_pattern='"live-marker"')
    collector = asyncio.create_task(_collect(iterator, 1))
    await asyncio.sleep(0.3)
    await asyncio.to_thread(harness.produce_log, ECHO, "other")
    await asyncio.to_thread(harness.produce_log, ECHO, "live-marker")
    events = await collector
    assert "live-marker" in events[0].message
    assert events[0].message.startswith("echo called with")


# -- the optional parts of the contract: declared by `capabilities`, never probed ---------------------


def test_capabilities_are_declared_and_match_what_the_backend_does(backend):
    from lambdatui.backends.base import Capabilities, NotSupportedError

    caps = backend.capabilities
    assert isinstance(caps, Capabilities)
    where = backend.location()
    if caps.switch_account:
        assert where.region  # a backend that switches regions says which one it is in
    else:
        with pytest.raises(NotSupportedError):
            backend.switch(region="eu-west-1")


def test_summary_has_every_key_and_counts_invocations(harness):
    from lambdatui.backends.base import SUMMARY_KEYS

    backend = harness.backend
    since = time.time() - 60
    backend.invoke("conf-echo", b"{}")
    summary = backend.summary("conf-echo", since, time.time() + 1)
    assert set(SUMMARY_KEYS) <= set(summary)
    assert summary["memory_size_mb"] == 128
    if backend.capabilities.invocation_history:
        assert summary["invocations"] == 1
        assert summary["duration_p50"] is not None and summary["projected_monthly_usd_no_free_tier"] > 0
        durations = backend.durations("conf-echo", since, time.time() + 1)
        assert durations is not None and len(durations) == 1
    else:
        assert backend.durations("conf-echo", since, time.time() + 1) is None
    with pytest.raises(FunctionNotFoundError):
        backend.summary("conf-missing", since, time.time())


def test_power_tuning_session_restores_what_it_changed(harness):
    backend = harness.backend
    before = backend.get_function("conf-echo")
    with backend.power_tuning("conf-echo") as session:
        assert session.local == (not backend.capabilities.cpu_follows_memory)
        if backend.capabilities.cpu_follows_memory:
            assert session.cpu_scaled()
        backend.update_function("conf-echo", {"memory_size": 256})
        backend.wait_until_updated("conf-echo")
        backend.update_function("conf-echo", {"memory_size": before.memory_size})
    assert backend.get_function("conf-echo").memory_size == before.memory_size


def test_invoke_with_latest_qualifier_and_client_context(harness):
    # Invoke's Qualifier and ClientContext parameters pass through the contract on every backend.
    result = harness.backend.invoke(ECHO, b'{"k": 1}', qualifier="$LATEST", client_context={"custom": {"a": "b"}})
    assert result.status_code == 200 and result.function_error is None


def test_event_invoke_answers_with_the_request_id_of_the_event(backend):
    result = backend.invoke(ECHO, b"{}", invocation_type="Event")
    assert result.status_code == 202
    assert result.request_id  # Lambda's x-amzn-RequestId: the id every attempt of the event runs under


def test_invoke_of_a_missing_alias_is_function_not_found(harness):
    if not harness.runs_handlers:
        pytest.skip("moto answers an invoke of any qualifier with an echo")
    with pytest.raises(FunctionNotFoundError) as info:
        harness.backend.invoke(ECHO, b"{}", qualifier="prod")
    assert f"function:{ECHO}:prod" in str(info.value)


# -- the whole function: function_detail, versions, aliases, reserved concurrency -------------------


def test_function_detail_has_every_key_and_the_settings(backend):
    from lambdatui.backends.detail import DETAIL_KEYS

    detail = backend.function_detail(ECHO)
    out = detail.to_json()
    assert list(out)[: len(DETAIL_KEYS)] == list(DETAIL_KEYS)
    assert (out["function"], out["qualifier"], out["handler"], out["memory_size"]) == (ECHO, "$LATEST", "app.handler", 128)
    assert out["environment"] == {"GREETING": "Hello"}
    assert out["logging"] == {"format": "Text", "log_group": f"/aws/lambda/{ECHO}"}
    assert out["arn"].endswith(f":function:{ECHO}")
    assert backend.function_detail(f"{ECHO}:$LATEST").name == ECHO
    with pytest.raises(FunctionNotFoundError):
        backend.function_detail("conf-missing")
    with pytest.raises(FunctionNotFoundError):
        backend.function_detail(ECHO, qualifier="no-such-alias")


def test_versions_and_aliases_where_the_backend_has_them(backend):
    from lambdatui.backends.base import NotSupportedError

    if backend.capabilities.versions:
        assert backend.list_versions(ECHO) == [] and backend.list_aliases(ECHO) == []
    else:
        with pytest.raises(NotSupportedError):
            backend.list_versions(ECHO)
        with pytest.raises(NotSupportedError):
            backend.list_aliases(ECHO)
        assert backend.function_detail(ECHO).to_json()["versions"] == []


def test_reserved_concurrency_zero_stays_zero_and_none_is_unreserved(backend):
    assert backend.reserved_concurrency(ECHO) is None
    backend.update_function(ECHO, {"reserved_concurrency": 0})
    assert backend.reserved_concurrency(ECHO) == 0
    assert backend.reserved_concurrencies([ECHO, FAILS]) == {ECHO: 0, FAILS: None}
    assert backend.function_detail(ECHO).to_json()["reserved_concurrency"] == 0
    listed = {f.name: f.reserved_concurrency for f in backend.list_functions()}
    if backend.capabilities.lists_reserved_concurrency:
        assert listed[ECHO] == 0
    else:
        assert listed[ECHO] is None  # ListFunctions leaves it out: why the capability exists
    backend.update_function(ECHO, {"reserved_concurrency": None})
    assert backend.reserved_concurrency(ECHO) is None


def test_dry_run_answers_204_without_running(harness):
    result = harness.backend.invoke(ECHO, b"{}", invocation_type="DryRun")
    assert result.status_code == 204 and not result.has_figures and result.payload == b""
