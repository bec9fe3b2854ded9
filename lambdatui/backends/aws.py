"""The AWS backend: real Lambda functions through boto3, behind the same `Backend` interface.

The session is whatever boto3 resolves for the profile (static keys, SSO, assume-role), with
botocore's standard retry mode and short connect timeouts so an unreachable endpoint is reported
within seconds. Invocations ask for `LogType=Tail` and read their figures from the REPORT line with
the parser the local executor's lines are checked against. Every botocore failure becomes one
`BackendError` line a person can act on.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import boto3
import botocore.exceptions
from botocore.config import Config as BotoConfig

from .. import logformat
from ..config import Config, validate_changes
from ..executor.spec import MAX_SYNC_PAYLOAD_BYTES, InvokeResult
from ..figures import invocation_cost
from .aws_errors import AccessDeniedError, translate
from .aws_logs import ReportLog, log_group_name
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
    from mypy_boto3_lambda.type_defs import FunctionConfigurationResponseTypeDef, FunctionConfigurationTypeDef

_T = TypeVar("_T")

CONNECT_TIMEOUT_S = 3
# A synchronous invoke may run for 15 minutes; reads wait that long plus a margin.
READ_TIMEOUT_S = 905
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
        connect_timeout: float = CONNECT_TIMEOUT_S,
        max_attempts: int = 5,
    ) -> None:
        settings = config.aws
        self.config = config
        self.profile = settings.profile
        self.region = settings.region
        self.endpoint_url = settings.endpoint_url
        self.read_only = settings.read_only
        self._connect_timeout = connect_timeout
        self._max_attempts = max_attempts
        self._architectures: dict[str, str] = {}
        # Each function's LoggingConfig (format, log group) from the configuration last fetched: the
        # log tail, `logs` and the figures read the group it names, in the format it says.
        self._logging: dict[str, tuple[str, str]] = {}
        self.reports = ReportLog()  # REPORT figures seen by the log tail and by invokes
        self._connect(session)

    def _connect(self, session: boto3.Session | None = None) -> None:
        try:
            self.session = session or boto3.Session(profile_name=self.profile, region_name=self.region)
        except botocore.exceptions.BotoCoreError as e:
            raise translate(e, self) from None
        boto_config = BotoConfig(
            region_name=self.region,
            retries={"mode": "standard", "total_max_attempts": self._max_attempts},
            connect_timeout=self._connect_timeout,
            read_timeout=READ_TIMEOUT_S,
            user_agent_extra="lambdatui",
        )
        self.lambda_client = self.session.client("lambda", endpoint_url=self.endpoint_url, config=boto_config)
        self.logs_client = self.session.client("logs", endpoint_url=self.endpoint_url, config=boto_config)
        self.cloudwatch_client = self.session.client("cloudwatch", endpoint_url=self.endpoint_url, config=boto_config)

    def switch(self, *, profile: str | None = None, region: str | None = None) -> None:
        """Point the backend at another profile or region (the dashboard's switcher)."""
        if profile is not None:
            self.profile = profile or None
        if region:
            self.region = region
        self._architectures.clear()
        self._logging.clear()
        self.reports.forget()
        self._connect()

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
            response = self.lambda_client.invoke(**kwargs)
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

        if insights:
            log_format, group = self.logging_config(name)
            figures = insights_figures(self.logs_client, group, log_format, start=since, end=until)
            figures["source"] = f"Logs Insights over {group} ({figures['reports']} REPORT lines)"
            return figures
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

    def metrics(self, name: str, *, start: float, end: float, period: int = 60) -> FunctionMetrics:
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
