"""How a runner polling the embedded AWS services tells of its failures: one line in the function's
log (and `serve`'s logger) when a failure starts or changes, one when it works again — never a line
per poll — and the one-line description of a failed AWS call those lines carry."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

log = logging.getLogger("lambdatui.serve")  # the runners log as part of `serve`, whose logger users configure

# botocore's errors for an endpoint that does not answer.
_UNREACHABLE = ("EndpointConnectionError", "ConnectionClosedError", "ConnectTimeoutError", "ReadTimeoutError")


class PollReporter:
    """Says each failure once, while it lasts, and once that it is over. `where` opens every line
    ("S3 trigger s3://uploads"); `retrying` and `recovered` end the failure's and the recovery's."""

    def __init__(
        self, where: str, function: str, function_log: Callable[[str], None] | None,
        *, retrying: str = "trying again", recovered: str = "working again",
    ) -> None:
        self.where = where
        self.function = function
        self.function_log = function_log
        self.retrying = retrying
        self.recovered = recovered
        self.failing: str | None = None  # the failure last told, while it lasts

    def tell(self, level: int, message: str) -> None:
        line = f"{self.where} → {self.function}: {message}"
        log.log(level, line)
        if self.function_log is not None:
            try:
                self.function_log(f"[{logging.getLevelName(level)}] {line}")
            except Exception:
                log.exception("writing to the log of %s failed", self.function)

    def failed(self, problem: str) -> None:
        if problem != self.failing:
            self.failing = problem
            self.tell(logging.ERROR, f"{problem}; {self.retrying}")

    def worked(self) -> None:
        if self.failing is not None:
            self.failing = None
            self.tell(logging.INFO, self.recovered)


def describe_error(e: Exception, what: str, missing_codes: Collection[str]) -> str:
    """One short line for a failed call: `what` is missing (an error code in `missing_codes`), the
    services' error code and message, or that they do not answer."""
    response = getattr(e, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = str(response["Error"].get("Code", ""))
        if code in missing_codes:
            return f"{what} does not exist in the embedded AWS services"
        return f"{code}: {response['Error'].get('Message', '')}".strip(": ")
    if type(e).__name__ in _UNREACHABLE:
        return f"the embedded AWS services do not answer ({e})"
    return f"{type(e).__name__}: {e}"
