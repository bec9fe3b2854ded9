"""botocore's failures as one line a person can act on: what happened and what to do about it."""

from __future__ import annotations

import botocore.exceptions as bx

from .base import BackendError, FunctionNotFoundError, InvalidParameterError


class CredentialsError(BackendError):
    code = "Credentials"


class AccessDeniedError(BackendError):
    code = "AccessDenied"


class EndpointError(BackendError):
    code = "Endpoint"


class ThrottledError(BackendError):
    code = "Throttling"


def _profile(backend) -> str:
    return getattr(backend, "profile", None) or "default"


def translate(error: Exception, backend=None) -> BackendError:
    profile = _profile(backend)
    if isinstance(error, bx.ProfileNotFound):
        return CredentialsError(f"AWS profile {profile!r} is not configured (see ~/.aws/config or aws configure)")
    if isinstance(error, (bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError, bx.TokenRetrievalError)):
        return CredentialsError(f"The SSO session for profile {profile!r} has expired or is missing: run aws sso login --profile {profile}")
    if isinstance(error, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return CredentialsError(f"No AWS credentials found for profile {profile!r}: run aws configure, or aws sso login --profile {profile}")
    if isinstance(error, bx.NoRegionError):
        return CredentialsError("No AWS region set: pass --region or set aws.region in the config")
    if isinstance(error, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ConnectionClosedError)):
        where = getattr(backend, "endpoint_url", None) or f"AWS in {getattr(backend, 'region', '?')}"
        return EndpointError(f"Cannot reach {where}: {error}")
    if isinstance(error, bx.ReadTimeoutError):
        return EndpointError(f"No answer from {getattr(backend, 'endpoint_url', None) or 'AWS'} in time: {error}")
    if isinstance(error, bx.ClientError):
        err = error.response.get("Error", {})
        code = err.get("Code", "Error")
        message = (err.get("Message") or "").strip()
        operation = getattr(error, "operation_name", "the request")
        if code in ("ResourceNotFoundException", "ResourceNotFound", "404"):
            return FunctionNotFoundError(message or f"Not found ({operation})")
        if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"):
            hint = " (the credentials are not valid or have expired)" if code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException") else ""
            return AccessDeniedError(f"Access denied to {operation} for profile {profile!r}{hint}: {message or code}")
        if code in ("ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded"):
            return ThrottledError(f"AWS throttled {operation} even after retries: {message or code}")
        if code in ("InvalidParameterValueException", "ValidationException"):
            return InvalidParameterError(f"{operation} refused the value: {message or code}")
        return BackendError(f"{operation} failed: {code}: {message}".rstrip(": "))
    if isinstance(error, bx.BotoCoreError):
        return BackendError(str(error))
    return BackendError(f"{type(error).__name__}: {error}")
