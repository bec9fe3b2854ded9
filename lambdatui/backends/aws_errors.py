"""botocore's failures as one line a person can act on: what happened and what to do about it.

Every credential provider's failure (a `credential_process` that exits 1, an expired SSO session, an
MFA code no one can type) names the profile it concerns; an error answer that is not AWS's JSON (a
proxy's HTML 500, an XML 403) is summarised with its HTTP status; a bare 403 is "access denied"."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import botocore.exceptions as bx

from .aws_session import MfaCodeNotGiven, MfaCodeUnavailable
from .base import BackendError, FunctionNotFoundError, InvalidParameterError

if TYPE_CHECKING:
    from .aws import AwsBackend


class CredentialsError(BackendError):
    code = "Credentials"


class AccessDeniedError(BackendError):
    code = "AccessDenied"


class EndpointError(BackendError):
    code = "Endpoint"


class ThrottledError(BackendError):
    code = "Throttling"


MAX_MESSAGE_CHARS = 300  # a proxy's page or a provider's stderr is summarised, not printed whole

_CREDENTIAL_SOURCES = {
    "custom-process": "credential_process",
    "sso": "the SSO login",
    "assume-role": "assume-role",
    "assume-role-with-web-identity": "web identity",
    "container-role": "the container's credentials endpoint",
    "iam-role": "the instance metadata service",
}


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`text` with its whitespace (newlines included) collapsed, cut at `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _tag(body: str, name: str) -> str | None:
    found = re.search(rf"<{name}\b[^>]*>(.*?)</{name}>", body, re.IGNORECASE | re.DOTALL)
    if found is None:
        return None
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip() or None


def summarize_body(status: int, body: str) -> str:
    """One line for an error answer that is not AWS's JSON: `HTTP 500: <the page's title>`. An XML
    error (S3-style, a proxy's) gives its Code and Message; an HTML page its title or first heading;
    anything else its first line; no body at all, just the status and its reason phrase."""
    text = body.strip()
    reason = _reason(status)
    if text.startswith("<"):
        code, message = _tag(text, "Code"), _tag(text, "Message")
        if code or message:
            return one_line(f"HTTP {status} {': '.join(p for p in (code, message) if p)}")
        title = _tag(text, "title") or _tag(text, "h1")
        return one_line(f"HTTP {status}: {title or reason} (an HTML page, not an AWS answer)")
    if not text:
        return f"HTTP {status} {reason} with no error body".replace("  ", " ")
    first = next(line for line in text.splitlines() if line.strip())
    return one_line(f"HTTP {status}: {first}")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def translate(error: Exception, backend: AwsBackend | None = None, *, profile: str | None = None) -> BackendError:
    """`error` as one line. `profile` names the profile the failure concerns when it is not the
    backend's current one (a switch to another that failed)."""
    translated = _translate(error, backend, profile)
    translated.args = (one_line(str(translated)),)
    return translated


def _translate(error: Exception, backend: AwsBackend | None, profile_given: str | None) -> BackendError:
    profile = profile_given or (backend.profile if backend is not None else None) or "default"
    endpoint = backend.endpoint_url if backend is not None else None
    region = backend.region if backend is not None else "?"
    if isinstance(error, (MfaCodeUnavailable, MfaCodeNotGiven)):
        return CredentialsError(str(error))
    if isinstance(error, bx.RefreshWithMFAUnsupportedError):
        return CredentialsError(f"The MFA session of profile {profile!r} has expired: start lambdatui again to enter a new code")
    if isinstance(error, bx.ProfileNotFound):
        missing = error.kwargs.get("profile") or profile
        return CredentialsError(f"AWS profile {missing!r} is not configured (see ~/.aws/config or aws configure)")
    if isinstance(error, bx.CredentialRetrievalError):
        provider = str(error.kwargs.get("provider", ""))
        source = _CREDENTIAL_SOURCES.get(provider, provider or "the credential provider")
        detail = str(error.kwargs.get("error_msg", "")).strip() or str(error)
        return CredentialsError(f"No credentials for profile {profile!r}: {source} failed: {detail}")
    if isinstance(error, (bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError, bx.TokenRetrievalError)):
        return CredentialsError(f"The SSO session for profile {profile!r} has expired or is missing: run aws sso login --profile {profile}")
    if isinstance(error, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return CredentialsError(f"No AWS credentials found for profile {profile!r}: run aws configure, or aws sso login --profile {profile}")
    if isinstance(error, bx.NoRegionError):
        return CredentialsError("No AWS region set: pass --region or set aws.region in the config")
    if isinstance(error, (bx.InvalidConfigError, bx.ConfigParseError, bx.InvalidRegionError)):
        return CredentialsError(f"The AWS configuration of profile {profile!r} is not usable: {error}")
    if isinstance(error, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ConnectionClosedError)):
        where = endpoint or f"AWS in {region}"
        return EndpointError(f"Cannot reach {where}: {error}")
    if isinstance(error, bx.ReadTimeoutError):
        return EndpointError(f"No answer from {endpoint or f'AWS in {region}'} in time: {error}")
    if isinstance(error, bx.ClientError):
        return _client_error(error, profile)
    if isinstance(error, bx.BotoCoreError):
        return BackendError(str(error))
    return BackendError(f"{type(error).__name__}: {error}")


def _client_error(error: bx.ClientError, profile: str) -> BackendError:
    err = error.response.get("Error", {})
    code = err.get("Code", "Error")
    message = (err.get("Message") or "").strip()
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    operation = error.operation_name or "the request"
    if code.isdigit():
        # botocore found no AWS error shape in the body and took the status as the code: a proxy's,
        # a load balancer's or another emulator's answer. Said in one line, with the status.
        status = status or int(code)
        summary = summarize_body(status, message)
        if status == 403:
            return AccessDeniedError(f"Access denied to {operation} for profile {profile!r}: {summary}")
        if status == 404:
            return FunctionNotFoundError(f"Not found ({operation}): {summary}")
        return BackendError(f"{operation} failed: {summary}")
    if code in ("ResourceNotFoundException", "ResourceNotFound"):
        return FunctionNotFoundError(message or f"Not found ({operation})")
    if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"):
        hint = " (the credentials are not valid or have expired)" if code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException") else ""
        return AccessDeniedError(f"Access denied to {operation} for profile {profile!r}{hint}: {message or code}")
    if code in ("ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded"):
        return ThrottledError(f"AWS throttled {operation} even after retries: {message or code}")
    if code in ("InvalidParameterValueException", "ValidationException"):
        return InvalidParameterError(f"{operation} refused the value: {message or code}")
    return BackendError(f"{operation} failed: {code}: {message}".rstrip(": "))
