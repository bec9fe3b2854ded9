"""Backends: where functions run. `make_backend` picks one from the configuration.

Neither backend imports Textual; the AWS backend imports boto3 only when it is chosen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import (
    EDITABLE_FIELDS,
    Backend,
    BackendError,
    FunctionConfiguration,
    FunctionNotFoundError,
    InvalidParameterError,
    ReadOnlyError,
    RequestError,
)

if TYPE_CHECKING:
    from ..config import Config


def make_backend(config: Config, *, backend: str | None = None, **options: Any) -> Backend:
    kind = backend or config.backend
    if kind == "local":
        from .local import LocalBackend

        return LocalBackend(config, **options)
    if kind == "aws":
        try:
            from .aws import AwsBackend
        except ImportError:
            raise BackendError("the AWS backend is not available in this version of lambdatui") from None
        return AwsBackend(config, **options)
    raise BackendError(f"unknown backend {kind!r} (local or aws)")


__all__ = [
    "EDITABLE_FIELDS",
    "Backend",
    "BackendError",
    "FunctionConfiguration",
    "FunctionNotFoundError",
    "InvalidParameterError",
    "ReadOnlyError",
    "RequestError",
    "make_backend",
]
