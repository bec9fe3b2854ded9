"""The AWS backend: real Lambda functions through boto3, behind the same `Backend` interface.

The profile, region and credentials are resolved as the AWS CLI resolves them (aws_session), with
botocore's standard retry mode, 3 s connects and 15 s reads (only a synchronous invoke waits for the
function's timeout, on a client of its own), so an unreachable or stalled endpoint is reported
within seconds; credentials are resolved when a client is first needed, inside the error handling. Invocations ask for `LogType=Tail` and read their figures from the REPORT line with
the parser the local executor's lines are checked against. Every botocore failure becomes one
`BackendError` line a person can act on.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import boto3
import botocore.exceptions

from .. import logformat
from ..config import Config, validate_changes
from ..executor.spec import MAX_SYNC_PAYLOAD_BYTES, InvokeResult
from ..figures import invocation_cost
from .aws_errors import AccessDeniedError, translate
from .aws_logs import ReportLog, log_group_name
from .aws_session import DEFAULT_REGION, ClientCache, CodeAsker, Resolved, Timeouts, make_client, mfa_asker, resolve
from .base import (
    AliasInfo,
    Backend,
    BackendError,
    Capabilities,
    FunctionConfiguration,
    FunctionDetail,
    FunctionMetrics,
    FunctionNotFoundError,
    InvalidParameterError,
    Location,
    LogEvent,
    ReadOnlyError,
    RequestError,
    VersionInfo,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_lambda.type_defs import FunctionConfigurationResponseTypeDef, FunctionConfigurationTypeDef
    from mypy_boto3_logs import CloudWatchLogsClient

_T = TypeVar("_T")

WAIT_DELAY_S = 1
WAIT_ATTEMPTS = 300

# Configuration fields and their Lambda API names.
_API_FIELDS = {
    "memory_size": "MemorySize",
    "timeout": "Timeout",
    "handler": "Handler",
    "runtime": "Runtime",
    "description": "Description",
}


class AwsBackend(Backend):
    name = "aws"
    capabilities = Capabilities(
        switch_account=True, cpu_follows_memory=True, deploy_target=True, versions=True, lists_reserved_concurrency=False,
        live_tail=True,
    )

    def __init__(
        self,
        config: Config,
        *,
        session: boto3.Session | None = None,
        timeouts: Timeouts | None = None,
        max_attempts: int = 5,
        mfa_asker: CodeAsker | None = None,
    ) -> None:
        settings = config.aws
        self.config = config
        self.endpoint_url = settings.endpoint_url
        self.read_only = settings.read_only
        self.confirm_invoke = settings.invoke_needs_confirmation
        self.timeouts = timeouts or Timeouts()
        self._max_attempts = max_attempts
        # Who is asked for an MFA code: this one, else the process's (the terminal, or the dashboard's
        # dialog while it runs). Read at each prompt, so it can be replaced after the session is made.
        self.mfa_asker = mfa_asker
        self._architectures: dict[str, str] = {}
        self._timeouts: dict[str, int] = {}
        # Each function's LoggingConfig (format, log group) from the configuration last fetched: the
        # log tail, `logs` and the figures read the group it names, in the format it says.
        self._logging: dict[str, tuple[str, str]] = {}
        self.reports = ReportLog()  # REPORT figures seen by the log tail and by invokes
        self.profile: str | None = None
        self.region = ""
        self._connect(settings.profile, settings.region, session)

    def _connect(self, profile: str | None, region: str | None, session: boto3.Session | None = None) -> None:
        """Resolve profile and region (aws_session) and make a fresh client cache; nothing of this
        backend changes unless both succeed, so a failed switch leaves it where it was."""
        try:
            if session is not None:  # a caller's own session (tests, embedding): used as it is
                resolved = Resolved(session, profile or session.profile_name, region or session.region_name or DEFAULT_REGION, "session")
            else:
                resolved = resolve(profile, region, self._prompt_mfa)
        except botocore.exceptions.BotoCoreError as e:
            raise translate(e, self, profile=profile or os.environ.get("AWS_PROFILE")) from None
        self.session = resolved.session
        self.profile = resolved.profile
        self.region = resolved.region
        self.region_source = resolved.region_source
        self._clients = ClientCache(self._make_client)

    def _prompt_mfa(self, prompt: str) -> str:
        return (self.mfa_asker or mfa_asker())(prompt, self.profile or "default")

    def _make_client(self, service: str, read_timeout: float) -> Any:
        try:
            return make_client(
                self.session, service, region=self.region, endpoint_url=self.endpoint_url,
                connect_timeout=self.timeouts.connect, read_timeout=read_timeout, max_attempts=self._max_attempts,
            )
        except botocore.exceptions.BotoCoreError as e:  # credential_process, SSO token, config errors
            raise translate(e, self) from None

    @property
    def lambda_client(self) -> LambdaClient:
        return cast("LambdaClient", self._clients.get("lambda", self.timeouts.read))

    @property
    def logs_client(self) -> CloudWatchLogsClient:
        return cast("CloudWatchLogsClient", self._clients.get("logs", self.timeouts.read))

    @property
    def cloudwatch_client(self) -> CloudWatchClient:
        return cast("CloudWatchClient", self._clients.get("cloudwatch", self.timeouts.read))

    def invoke_client(self, name: str, invocation_type: str = "RequestResponse") -> LambdaClient:
        """The client an invoke goes through: a synchronous one waits for the function's timeout
        (when known from a listing, else Lambda's longest) plus a margin; Event and DryRun answer at
        once and use the control-plane client."""
        if invocation_type != "RequestResponse":
            return self.lambda_client
        read = self.timeouts.invoke_read(self._timeouts.get(name.split(":")[0]))
        return cast("LambdaClient", self._clients.get("lambda", read))

    def switch(self, *, profile: str | None = None, region: str | None = None) -> None:
        """Point the backend at another profile or region (the dashboard's switcher). The profile's
        credentials are resolved here (a failing `credential_process` or an expired SSO session fails
        the switch), so the backend, and the header naming it, stay on the old one when it fails."""
        new_profile = self.profile if profile is None else (profile or None)
        new_region = region or (self.region if profile is None else None)
        previous = (self.session, self.profile, self.region, self.region_source, self._clients)
        self._connect(new_profile, new_region)
        try:
            self.lambda_client  # noqa: B018 - made now: resolves the credentials
        except BackendError:
            self.session, self.profile, self.region, self.region_source, self._clients = previous
            raise
        self._architectures.clear()
        self._timeouts.clear()
        self._logging.clear()
        self.reports.forget()

    def location(self) -> Location:
        return Location(self.profile, self.region)

    def describe(self) -> str:
        where = f" · {self.endpoint_url}" if self.endpoint_url else ""
        mode = " · read-only" if self.read_only else ""
        return f"aws · profile {self.profile or 'default'} · {self.region}{where}{mode}"

    def _call(self, method: Callable[..., _T], **kwargs: Any) -> _T:
        try:
            return method(**kwargs)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            raise translate(e, self) from None

    # -- functions ---------------------------------------------------------------------------

    def _configuration(
        self,
        c: FunctionConfigurationTypeDef | FunctionConfigurationResponseTypeDef,
        reserved: int | None = None,
        provisioned: int = 0,
    ) -> FunctionConfiguration:
        architecture = (c.get("Architectures") or ["x86_64"])[0]
        storage = c.get("EphemeralStorage")
        self._architectures[c["FunctionName"]] = architecture
        self._timeouts[c["FunctionName"]] = c.get("Timeout", 3)
        logging = c.get("LoggingConfig") or {}
        self._logging[c["FunctionName"]] = (
            logging.get("LogFormat") or "Text",
            logging.get("LogGroup") or log_group_name(c["FunctionName"]),
        )
        return FunctionConfiguration(
            name=c["FunctionName"],
            runtime=c.get("Runtime") or "provided (image)",
            handler=c.get("Handler") or "",
            memory_size=c.get("MemorySize", 128),
            timeout=c.get("Timeout", 3),
            architecture=architecture,
            description=c.get("Description") or "",
            environment=dict((c.get("Environment") or {}).get("Variables") or {}),
            layers=tuple(layer["Arn"] for layer in c.get("Layers") or []),
            reserved_concurrency=reserved,
            provisioned_concurrency=provisioned,
            last_modified=c.get("LastModified"),
            arn=c.get("FunctionArn", ""),
            code=c.get("PackageType", "Zip"),
            role=c.get("Role"),
            ephemeral_storage=storage.get("Size", 512) if storage else 512,
            state=c.get("State") or "Active",
            last_update_status=c.get("LastUpdateStatus") or "Successful",
        )

    def list_functions(self) -> list[FunctionConfiguration]:
        functions: list[FunctionConfiguration] = []
        try:
            for page in self.lambda_client.get_paginator("list_functions").paginate():
                functions.extend(self._configuration(c) for c in page.get("Functions", []))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            raise translate(e, self) from None
        return functions

    def get_function(self, name: str) -> FunctionConfiguration:
        c = self._call(self.lambda_client.get_function_configuration, FunctionName=name)
        reserved = self._call(self.lambda_client.get_function_concurrency, FunctionName=name).get("ReservedConcurrentExecutions")
        provisioned = 0
        try:
            configs = self.lambda_client.list_provisioned_concurrency_configs(FunctionName=name)
            provisioned = sum(p.get("RequestedProvisionedConcurrentExecutions", 0) for p in configs.get("ProvisionedConcurrencyConfigs", []))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            pass  # shown as 0 where the account or endpoint does not offer it
        return self._configuration(c, reserved, provisioned)

    def update_function(
        self,
        name: str,
        changes: dict[str, Any],
        progress: Callable[[str], None] | None = None,
        *,
        persist: bool = True,  # the account is the record: nothing else to write
        save_to: dict[str, str] | None = None,  # templates only
    ) -> FunctionConfiguration:
        if self.read_only:
            raise ReadOnlyError(f"{name} was not changed: aws.read_only is true for this session")
        try:
            valid = validate_changes(changes)
        except ValueError as e:
            raise InvalidParameterError(str(e)) from None
        if valid.get("provisioned_concurrency"):
            raise InvalidParameterError(
                "provisioned_concurrency: is set on a published version or alias in AWS ($LATEST cannot "
                "have it); lambdatui edits $LATEST"
            )
        if "architecture" in valid:
            raise InvalidParameterError("architecture: changes only with new code on AWS (UpdateFunctionCode): deploy to change it")
        kwargs: dict[str, Any] = {_API_FIELDS[k]: v for k, v in valid.items() if k in _API_FIELDS}
        if "environment" in valid:
            kwargs["Environment"] = {"Variables": valid["environment"]}
        if "ephemeral_storage" in valid:
            kwargs["EphemeralStorage"] = {"Size": valid["ephemeral_storage"]}
        reserved_change = "reserved_concurrency" in valid
        reserved = valid.get("reserved_concurrency")
        if kwargs:
            if progress:
                progress(f"Updating {name}…")
            self._call(self.lambda_client.update_function_configuration, FunctionName=name, **kwargs)
            self.wait_until_updated(name, progress)
        if reserved_change:
            if reserved is None:
                self._call(self.lambda_client.delete_function_concurrency, FunctionName=name)
            else:
                self._call(self.lambda_client.put_function_concurrency, FunctionName=name, ReservedConcurrentExecutions=reserved)
        return self.get_function(name)

    def wait_until_updated(self, name: str, progress: Callable[[str], None] | None = None) -> None:
        """Wait for LastUpdateStatus: Successful, as AWS asks before the next update or invoke
        (botocore's `function_updated_v2` waiter: GetFunction every second, up to 5 minutes)."""
        self._wait("function_updated_v2", name, progress, f"Updating {name}: waiting for LastUpdateStatus")

    def wait_until_active(self, name: str, progress: Callable[[str], None] | None = None) -> None:
        """Wait for State: Active after CreateFunction (botocore's `function_active_v2` waiter)."""
        self._wait("function_active_v2", name, progress, f"Creating {name}: waiting for State Active")

    def _wait(
        self,
        waiter_name: Literal["function_updated_v2", "function_active_v2"],
        name: str,
        progress: Callable[[str], None] | None,
        message: str,
    ) -> None:
        if progress:
            progress(message)
        waiter = self.lambda_client.get_waiter(waiter_name)
        try:
            waiter.wait(FunctionName=name, WaiterConfig={"Delay": WAIT_DELAY_S, "MaxAttempts": WAIT_ATTEMPTS})
        except botocore.exceptions.WaiterError as e:
            last = e.last_response or {}
            if "Error" in last:
                raise translate(botocore.exceptions.ClientError(last, "GetFunction"), self) from None
            # The last answer is GetFunction's, which botocore-stubs does not know (it types the
            # field as an error response): read its configuration as the dict it is.
            configuration = last.get("Configuration")
            c: dict[str, Any] = configuration if isinstance(configuration, dict) else {}
            reason = c.get("LastUpdateStatusReason") or c.get("StateReason")
            if c.get("LastUpdateStatus") == "Failed" or c.get("State") == "Failed":
                raise BackendError(f"{message.split(':')[0]} failed: {reason or 'no reason given'}") from None
            raise BackendError(f"{name} was not ready after {WAIT_ATTEMPTS * WAIT_DELAY_S} s: {reason or e}") from None

    # -- invoke ------------------------------------------------------------------------------

    def invoke(
        self,
        name: str,
        payload: bytes = b"{}",
        *,
        invocation_type: str = "RequestResponse",
        source: str | None = None,  # AWS keeps its own records (CloudWatch): not used here
        request_id: str | None = None,  # AWS chooses its ids
        qualifier: str | None = None,
        client_context: dict[str, Any] | None = None,
    ) -> InvokeResult:
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        payload = payload or b"{}"
        if len(payload) > MAX_SYNC_PAYLOAD_BYTES:
            # Refused before sending, as Lambda would refuse it after an upload of up to 6 MB.
            raise RequestError(
                f"Request must be smaller than {MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation",
                "RequestTooLargeException",
                413,
            )
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            raise InvalidParameterError(f"invocation type {invocation_type!r} is not RequestResponse, Event or DryRun")
        started_at = time.time()
        kwargs: dict[str, Any] = {"FunctionName": name, "Payload": payload, "InvocationType": invocation_type}
        if invocation_type == "RequestResponse":
            kwargs["LogType"] = "Tail"
        if qualifier:
            kwargs["Qualifier"] = qualifier
        if client_context is not None:
            # Invoke's ClientContext is base64 of the JSON, at most 3,583 bytes.
            kwargs["ClientContext"] = base64.b64encode(json.dumps(client_context).encode()).decode()
        try:
            response = self.invoke_client(name, invocation_type).invoke(**kwargs)
        except botocore.exceptions.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code == "TooManyRequestsException":
                # Lambda's throttle answer carries a Reason that botocore-stubs' error response lacks.
                reason = str(e.response.get("Reason") or e.response.get("Error", {}).get("Reason") or "Throttled")
                return InvokeResult(
                    function=name, request_id=e.response.get("ResponseMetadata", {}).get("RequestId", ""),
                    status_code=429, payload=json.dumps({"Reason": reason, "message": e.response.get("Error", {}).get("Message", "")}).encode(),
                    error={"type": code, "reason": reason}, started_at=started_at,
                )
            if code in ("RequestTooLargeException", "InvalidRequestContentException"):
                raise RequestError(e.response.get("Error", {}).get("Message", code), code, e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)) from None
            raise translate(e, self) from None
        except botocore.exceptions.BotoCoreError as e:
            raise translate(e, self) from None
        status = response.get("StatusCode", 200)
        request_id = response.get("ResponseMetadata", {}).get("RequestId", "")
        body = response["Payload"].read() if response.get("Payload") is not None else b""
        if invocation_type != "RequestResponse":
            # Event (202: queued) and DryRun (204: checked) run nothing now: no figures to report.
            return InvokeResult(function=name, request_id=request_id, status_code=status, payload=body, started_at=started_at, has_figures=False)
        log_tail = base64.b64decode(response.get("LogResult") or b"").decode("utf-8", "replace")
        # A text REPORT line, or with LoggingConfig.LogFormat=JSON a `platform.report` record.
        report = logformat.parse_report(log_tail)
        if report is not None:
            self.reports.note(name.split(":")[0], time.time(), report)
        function_error = response.get("FunctionError")
        error_type = None
        if function_error:
            try:
                error_type = json.loads(body).get("errorType")
            except (ValueError, AttributeError):
                error_type = None
        result = InvokeResult(
            function=name,
            request_id=report.request_id if report else request_id,
            status_code=status,
            payload=body,
            function_error=function_error,
            error_type=error_type,
            log_tail=log_tail,
            executed_version=response.get("ExecutedVersion", "$LATEST"),
            started_at=started_at,
        )
        result.has_figures = report is not None
        if report is not None:
            result.duration_ms = report.duration_ms
            result.billed_duration_ms = report.billed_duration_ms
            result.init_duration_ms = report.init_duration_ms
            result.cold_start = report.cold_start
            result.memory_size_mb = report.memory_size_mb
            result.max_memory_used_mb = report.max_memory_used_mb
            architecture = self._architecture(name, result.executed_version)
            result.cost_usd = invocation_cost(report.memory_size_mb, report.billed_duration_ms, architecture)
        return result

    def _architecture(self, name: str, version: str) -> str:
        """The architecture `name` ran on at `version`, for the price: from the last listing, else
        asked once (a one-shot `lambdatui invoke` lists nothing first; arm64 is billed ~20 % less)."""
        key = name if version in ("", "$LATEST") else f"{name}:{version}"
        if key not in self._architectures:
            kwargs: dict[str, Any] = {"FunctionName": name}
            if key != name:
                kwargs["Qualifier"] = version
            try:
                c = self.lambda_client.get_function_configuration(**kwargs)
                self._architectures[key] = (c.get("Architectures") or ["x86_64"])[0]
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                return "x86_64"  # the invocation ran; a price at the x86 rate beats no result
        return self._architectures[key]

    # -- the whole function (lambdatui show, the Details screen): AWS calls in aws_detail ----

    def function_detail(self, name: str, qualifier: str | None = None) -> FunctionDetail:
        from .aws_detail import function_detail

        return function_detail(self, name, qualifier)

    def list_versions(self, name: str) -> list[VersionInfo]:
        from .aws_detail import list_versions

        return list_versions(self, name)

    def list_aliases(self, name: str) -> list[AliasInfo]:
        from .aws_detail import list_aliases

        return list_aliases(self, name)

    def reserved_concurrency(self, name: str) -> int | None:
        from .aws_detail import reserved_concurrency

        return reserved_concurrency(self, name)

    def reserved_concurrencies(self, names: list[str]) -> dict[str, int | None]:
        """`reserved_concurrency` of many functions on a bounded thread pool (`lambdatui list --json`)."""
        from .aws_detail import reserved_concurrencies

        return reserved_concurrencies(self, names)

    # -- logs and metrics --------------------------------------------------------------------

    def logging_config(self, name: str) -> tuple[str, str]:
        """(LogFormat, log group) of `name`: from the configuration already fetched, else fetched now."""
        base = name.split(":")[0]
        if base not in self._logging:
            try:
                self._configuration(self._call(self.lambda_client.get_function_configuration, FunctionName=base))
            except (FunctionNotFoundError, AccessDeniedError):
                # A deleted function's logs outlive it, and a logs-only role may not read Lambda:
                # Lambda's default group is where they are.
                return "Text", log_group_name(base)
        return self._logging.get(base, ("Text", log_group_name(base)))

    def log_group(self, name: str) -> str:
        return self.logging_config(name)[1]

    def report_figures(self, name: str, since: float, until: float, *, insights: bool = False) -> dict[str, Any] | None:
        """Cold starts, init and memory over [since, until) from REPORT lines (metrics have none):
        with `insights`, one CloudWatch Logs Insights query (billed per GB scanned); otherwise the
        lines the log tail and invokes already read (free), None when none were read."""
        from .aws_metrics import figures_from_reports, insights_figures

        base, _, qualifier = name.partition(":")
        if insights:
            log_format, group = self.logging_config(base)
            versions = self.qualifier_versions(base, qualifier) if qualifier else None
            figures = insights_figures(self.logs_client, group, log_format, start=since, end=until, versions=versions)
            scope = f", versions {', '.join(versions)}" if versions is not None else ""
            figures["source"] = f"Logs Insights over {group}{scope} ({figures['reports']} REPORT lines)"
            return figures
        if qualifier:
            return None  # the lines read are not told apart by version: unknown rather than wrong
        earliest = self.reports.earliest.get(name)
        reports = self.reports.between(name, since, until)
        if earliest is None and not reports:
            return None
        figures = figures_from_reports(reports)
        read_from = max(since, earliest) if earliest is not None else since
        figures["source"] = f"{len(reports)} REPORT lines read" + (
            f" since {time.strftime('%H:%M', time.localtime(read_from))}" if read_from > since + 60 else ""
        )
        return figures

    def qualifier_versions(self, name: str, qualifier: str) -> list[str]:
        """The versions a qualifier runs: itself for `$LATEST` or a number, else the alias's version
        and any its routing configuration weights in."""
        if qualifier == "$LATEST" or qualifier.isdigit():
            return [qualifier]
        alias = self._call(self.lambda_client.get_alias, FunctionName=name, Name=qualifier)
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        return [alias["FunctionVersion"], *sorted(weights)]

    def metrics(self, name: str, *, start: float, end: float, period: int = 60) -> FunctionMetrics:
        """CloudWatch's metrics of `name`; `NAME:ALIAS` or `NAME:VERSION` for that qualifier's own."""
        from .aws_metrics import fetch_metrics

        return fetch_metrics(self.cloudwatch_client, name, start=start, end=end, period=period)

    async def tail_logs(
        self,
        name: str,
        *,
        since: float | None = None,
        follow: bool = True,
        filter_pattern: str | None = None,
    ) -> AsyncGenerator[LogEvent, None]:
        from .aws_logs import tail_log_group

        async for event in tail_log_group(self, name, since=since, follow=follow, filter_pattern=filter_pattern):
            yield event

    async def live_tail(
        self, name: str, *, since: float | None = None, filter_pattern: str | None = None
    ) -> AsyncGenerator[LogEvent, None]:
        from .aws_logs import live_tail_session

        async for event in live_tail_session(self, name, since=since, filter_pattern=filter_pattern):
            yield event
