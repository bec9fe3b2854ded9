"""AWS Signature Version 4, both ways, for the embedded AWS services: `verify` checks that a request
reaching the services was signed with this state folder's key, `sign` signs lambdatui's own requests
to them (`/lambdatui/health`, `/lambdatui/reset`) without loading botocore.

The canonical request is built as AWS's SigV4 documentation specifies, from the request as it
arrived (its raw path and query, the headers it lists in SignedHeaders), which is also what botocore
and the AWS SDK for JavaScript v3 compute when they sign:

- the path is taken as sent; every service but S3 normalises it (dot segments, repeated slashes)
  and URI-encodes it a second time, S3 uses it as sent (AWS: "Each path segment must be URI-encoded
  twice (except for Amazon S3 which only gets URI-encoded once)");
- query parameters are decoded, encoded again with RFC 3986's unreserved characters, and sorted;
- the payload hash is X-Amz-Content-SHA256 when the request carries one (S3, including
  UNSIGNED-PAYLOAD and the STREAMING-… values of chunked uploads), else the SHA-256 of the body;
- a presigned URL (X-Amz-Signature in the query, S3's) signs UNSIGNED-PAYLOAD, and expires after
  X-Amz-Expires seconds, as on S3;
- a request more than 15 minutes away from this machine's clock is refused, as AWS refuses it
  (RequestTimeTooSkewed / "Signature expired").

Only the key id, the secret and the signature are checked: the region and service in the credential
scope are whatever the client signed with (moto serves every region), and a session token is not
checked (it is not a secret here: the key pair is).
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from urllib.parse import quote, unquote

__all__ = ["MAX_SKEW_S", "SignatureRejected", "sign", "verify"]

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_S = 15 * 60  # AWS refuses a signature dated more than 15 minutes from its own clock
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


class SignatureRejected(Exception):
    """The request is not signed with the expected key; `code` is AWS's error code for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 5.2.4, and AWS also drops empty segments (as botocore's normalize_url_path).
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out:
                out.pop()
            continue
        out.append(part)
    return "/" + "/".join(out) + ("/" if path.endswith("/") and out else "")


def canonical_uri(raw_path: str, service: str) -> str:
    if not raw_path:
        raw_path = "/"
    if service == "s3":
        return raw_path
    return quote(_remove_dot_segments(raw_path), safe="/~")


def canonical_query(raw_query: str, *, drop: str | None = None) -> str:
    pairs: list[tuple[str, str]] = []
    for item in raw_query.split("&") if raw_query else ():
        if not item:
            continue
        key, _, value = item.partition("=")
        key, value = quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")
        if drop is not None and key == drop:
            continue
        pairs.append((key, value))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def _signature(secret: str, timestamp: str, scope: list[str], canonical_request: str) -> str:
    date, region, service = scope[0], scope[1], scope[2]
    string_to_sign = "\n".join(
        (ALGORITHM, timestamp, "/".join(scope), hashlib.sha256(canonical_request.encode("utf-8")).hexdigest())
    )
    return hmac.new(_signing_key(secret, date, region, service), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _header_value(value: str) -> str:
    return " ".join(value.split())  # trimmed, inner runs of spaces collapsed (as the spec says)


def _parse_timestamp(text: str) -> float:
    try:
        return float(calendar.timegm(time.strptime(text, _DATE_FORMAT)))
    except ValueError:
        raise SignatureRejected("IncompleteSignature", f"X-Amz-Date {text!r} is not a date like 20240101T000000Z") from None


def verify(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: Callable[[], bytes],
    access_key_id: str,
    secret_access_key: str,
    now: float | None = None,
) -> None:
    """Raise SignatureRejected unless the request is signed by `access_key_id`'s key.

    `headers` maps lower-case names to values; `body` is called only when the payload hash must be
    computed (a signed header request without X-Amz-Content-SHA256)."""
    now = time.time() if now is None else now
    query = _query_dict(raw_query)
    authorization = headers.get("authorization")
    presigned = authorization is None and "X-Amz-Signature" in query
    if presigned:
        if query.get("X-Amz-Algorithm") != ALGORITHM:
            raise SignatureRejected("AuthorizationQueryParametersError", f"X-Amz-Algorithm must be {ALGORITHM}")
        credential = query.get("X-Amz-Credential", "")
        signed_headers = query.get("X-Amz-SignedHeaders", "")
        given = query.get("X-Amz-Signature", "")
        timestamp = query.get("X-Amz-Date", "")
    elif authorization is not None:
        if not authorization.startswith(ALGORITHM + " "):
            raise SignatureRejected("IncompleteSignature", f"only {ALGORITHM} (Signature Version 4) signatures are accepted")
        fields: dict[str, str] = {}
        for part in authorization[len(ALGORITHM) + 1 :].split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value
        credential = fields.get("Credential", "")
        signed_headers = fields.get("SignedHeaders", "")
        given = fields.get("Signature", "")
        timestamp = headers.get("x-amz-date", "")
        if not timestamp and "date" in headers:
            from email.utils import parsedate_to_datetime

            try:
                timestamp = time.strftime(_DATE_FORMAT, time.gmtime(parsedate_to_datetime(headers["date"]).timestamp()))
            except (TypeError, ValueError):
                timestamp = ""
    elif "AWSAccessKeyId" in query or (authorization or "").startswith("AWS "):
        raise SignatureRejected(
            "InvalidRequest",
            "Signature Version 2 is not accepted, only Version 4 (boto3: Config(signature_version='s3v4') for presigned URLs)",
        )
    else:
        raise SignatureRejected("MissingAuthenticationToken", "the request is not signed (Signature Version 4 with this state folder's key is required)")
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not given or not signed_headers or not timestamp:
        raise SignatureRejected("IncompleteSignature", "the signature is incomplete (Credential, SignedHeaders, Signature and a date are required)")
    key_id, scope = scope[0], scope[1:]
    if not hmac.compare_digest(key_id.encode(), access_key_id.encode()):
        raise SignatureRejected("InvalidClientTokenId", "The security token included in the request is invalid (not this state folder's access key id).")
    signed_at = _parse_timestamp(timestamp)
    if presigned:
        try:
            expires = int(query.get("X-Amz-Expires", "0"))
        except ValueError:
            expires = -1
        if not 1 <= expires <= 604800:  # S3: at most 7 days
            raise SignatureRejected("AuthorizationQueryParametersError", "X-Amz-Expires must be 1-604800 seconds")
        if now > signed_at + expires:
            raise SignatureRejected("AccessDenied", "Request has expired")
    if abs(now - signed_at) > MAX_SKEW_S and not presigned:
        raise SignatureRejected("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
    names = signed_headers.split(";")
    if "host" not in names:
        raise SignatureRejected("IncompleteSignature", "the Host header must be signed")
    canonical_headers = "".join(f"{name}:{_header_value(headers.get(name, ''))}\n" for name in names)
    if presigned:
        payload = UNSIGNED_PAYLOAD
    elif "x-amz-content-sha256" in headers:
        payload = headers["x-amz-content-sha256"]
    else:
        payload = hashlib.sha256(body()).hexdigest()
    canonical = "\n".join(
        (
            method.upper(),
            canonical_uri(raw_path, scope[2]),
            canonical_query(raw_query, drop="X-Amz-Signature" if presigned else None),
            canonical_headers,
            signed_headers,
            payload,
        )
    )
    expected = _signature(secret_access_key, timestamp, scope, canonical)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureRejected("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")


def _query_dict(raw_query: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in raw_query.split("&") if raw_query else ():
        key, _, value = item.partition("=")
        out.setdefault(unquote(key), unquote(value))
    return out


def sign(
    method: str, host: str, path: str, body: bytes, *, access_key_id: str, secret_access_key: str, region: str, service: str, now: float | None = None
) -> dict[str, str]:
    """The headers (Host, X-Amz-Date, X-Amz-Content-SHA256, Authorization) that sign a request with
    no query string to `host` (HOST:PORT) and `path`, for lambdatui's own calls to the services."""
    timestamp = time.strftime(_DATE_FORMAT, time.gmtime(time.time() if now is None else now))
    payload = hashlib.sha256(body).hexdigest()
    headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": timestamp}
    names = ";".join(sorted(headers))
    canonical = "\n".join(
        (method, canonical_uri(path, service), "", "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), names, payload)
    )
    scope = [timestamp[:8], region, service, "aws4_request"]
    signature = _signature(secret_access_key, timestamp, scope, canonical)
    return {
        "Host": host,
        "X-Amz-Date": timestamp,
        "X-Amz-Content-SHA256": payload,
        "Authorization": f"{ALGORITHM} Credential={access_key_id}/{'/'.join(scope)}, SignedHeaders={names}, Signature={signature}",
    }
