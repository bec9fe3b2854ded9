"""Signing a raw request as boto3 would (botocore's SigV4Auth), for tests that talk to the Lambda
API with httpx or a socket instead of boto3."""

from __future__ import annotations

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    key: str = "testing",
    secret: str = "testing",
    region: str = "us-east-1",
) -> dict[str, str]:
    """The headers to send: `headers` plus X-Amz-Date and Authorization for `url` and `body`."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(key, secret), "lambda", region).add_auth(request)
    return dict(request.headers.items())
