"""botocore's failures as one line a person can act on: what happened and what to do about it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import botocore.exceptions as bx

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


def translate(error: Exception, backend: AwsBackend | None = None) -> BackendError:
    profile = (backend.profile if backend is not None else None) or "default"
    endpoint = backend.endpoint_url if backend is not None else None
    region = backend.region if backend is not None else "?"
    if isinstance(error, bx.ProfileNotFound):
        return CredentialsError(f"AWS profile {profile!r} is not configured (see ~/.aws/config or aws configure)")
    if isinstance(error, (bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError, bx.TokenRetrievalError)):
        return CredentialsError(f"The SSO session for profile {profile!r} has expired or is missing: run aws sso login --profile {profile}")
    if isinstance(error, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return CredentialsError(f"No AWS credentials found for profile {profile!r}: run aws configure, or aws sso login --profile {profile}")
    if isinstance(error, bx.NoRegionError):
        return CredentialsError("No AWS region set: pass --region or set aws.region in the config")
    if isinstance(error, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ConnectionClosedError)):
        where = endpoint or f"AWS in {region}"
        return EndpointError(f"Cannot reach {where}: {error}")
    if isinstance(error, bx.ReadTimeoutError):
        return EndpointError(f"No answer from {endpoint or 'AWS'} in time: {error}")
    if isinstance(error, bx.ClientError):
        err = error.response.get("Error", {})
        code = err.get("Code", "Error")
        message = (err.get("Message") or "").strip()
        operation = error.operation_name or "the request"
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
