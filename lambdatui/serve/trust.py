"""Who `lambdatui serve` answers: the checks a request passes before anything runs.

- `allowed_hosts`/`host_allowed`: a request must name the server by its own address in `Host`
  (127.0.0.1, localhost, [::1], or the `--host` value, with the port). A page that a browser loaded
  from another name (DNS rebinding: `rebind.evil.example` resolving to 127.0.0.1) sends its own
  name, and is refused. Both ports check it.
- `check_lambda_caller`: the Lambda API also refuses any request carrying `Origin` (browsers add it
  to cross-origin requests, fetch() included; SDKs and the AWS CLI never send it) and requires an
  AWS Signature Version 4 `Authorization` header, as AWS does. Any key is accepted unless
  `serve: {access_key_id, secret_access_key}` is configured; then `verify_signature` recomputes the
  signature with botocore's `SigV4Auth` over the request received (method, path, query, the
  headers it signed, the body's hash) and compares.

Refusals are `Refusal`s carrying AWS's error code, status and message, which the Lambda API sends
in its JSON error shape. The messages are AWS's where AWS documents or answers one (cited below).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "lambda"
ALGORITHM = "AWS4-HMAC-SHA256"
# AWS refuses a signature dated more than 15 minutes from its clock, either way (AWS General
# Reference, "Elements of an AWS API request signature"; the message is AWS's, recorded in SDK issues:
# "Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z (20220127T015928Z - 15 min.)").
MAX_SKEW = timedelta(minutes=15)
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


class Refusal(Exception):
    """A request refused before it reached anything: AWS's error code, HTTP status and message."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message


@dataclass(frozen=True)
class SigningKey:
    """The one key pair `serve` verifies signatures with (`serve:` in the config)."""

    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:  # never the secret, in a log or a traceback
        return f"SigningKey(access_key_id={self.access_key_id!r}, secret_access_key='****')"


# -- Host ------------------------------------------------------------------------------------


def _host_name(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def allowed_hosts(bind_host: str, port: int) -> frozenset[str]:
    """The `Host` values that name this server: loopback names and the bind address, with the port
    (and without it on port 80, where clients leave it out)."""
    names = {"127.0.0.1", "localhost", "[::1]"}
    if bind_host not in ("", "0.0.0.0", "::"):
        names.add(_host_name(bind_host).lower())
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return frozenset(hosts)


def host_allowed(host: str | None, allowed: frozenset[str]) -> bool:
    return host is not None and host.strip().lower().rstrip(".") in allowed


# -- the Lambda API's callers ----------------------------------------------------------------


@dataclass(frozen=True)
class Authorization:
    """The parts of a SigV4 `Authorization` header."""

    access_key_id: str
    date: str  # YYYYMMDD of the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


_AUTH_PARAM = re.compile(r"\s*(Credential|SignedHeaders|Signature)\s*=\s*([^,\s]*)\s*")


def parse_authorization(value: str | None) -> Authorization:
    """The header's parts; a Refusal in AWS's words when it is missing or incomplete."""
    if not value:
        # What AWS's REST endpoints answer to an unsigned request.
        raise Refusal("MissingAuthenticationTokenException", 403, "Missing Authentication Token")
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise Refusal(
            "IncompleteSignatureException", 403,
            f"Authorization header requires the {ALGORITHM} algorithm (AWS Signature Version 4). Authorization={value}",
        )
    params: dict[str, str] = {}
    for part in rest.split(","):
        match = _AUTH_PARAM.fullmatch(part)
        if match:
            params[match.group(1)] = match.group(2)
    missing = [name for name in ("Credential", "Signature", "SignedHeaders") if not params.get(name)]
    if missing:
        # AWS's wording for each missing part.
        text = " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
        raise Refusal("IncompleteSignatureException", 403, f"{text} Authorization={value}")
    scope = params["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not all(scope[:4]) or not re.fullmatch(r"\d{8}", scope[1]):
        raise Refusal(
            "IncompleteSignatureException", 403,
            f"Credential should be scoped to a valid region, service and date (KEY/YYYYMMDD/REGION/{SERVICE}/aws4_request), "
            f"not '{params['Credential']}'.",
        )
    if scope[3] != SERVICE:
        raise Refusal(
            "InvalidSignatureException", 403, f"Credential should be scoped to correct service: '{SERVICE}'."
        )
    signed = tuple(h.strip().lower() for h in params["SignedHeaders"].split(";"))
    if "host" not in signed:
        # SigV4 requires Host among the signed headers.
        raise Refusal("InvalidSignatureException", 403, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    return Authorization(scope[0], scope[1], scope[2], scope[3], signed, params["Signature"])


def request_time(headers: Mapping[str, str], authorization: Authorization, now: datetime | None = None) -> str:
    """The request's X-Amz-Date, checked against the clock (AWS's messages when it is off)."""
    amz_date = headers.get("x-amz-date")
    if not amz_date:
        raise Refusal(
            "IncompleteSignatureException", 403,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    try:
        # datetime(...) from the fixed positions of YYYYMMDDTHHMMSSZ: strptime costs 20× more, on every request.
        if len(amz_date) != 16 or amz_date[8] != "T" or amz_date[15] != "Z":
            raise ValueError(amz_date)
        d, t = amz_date[:8], amz_date[9:15]
        when = datetime(int(d[:4]), int(d[4:6]), int(d[6:]), int(t[:2]), int(t[2:4]), int(t[4:]), tzinfo=timezone.utc)
    except ValueError:
        raise Refusal("IncompleteSignatureException", 403, f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.") from None
    if amz_date[:8] != authorization.date:
        raise Refusal(
            "InvalidSignatureException", 403,
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{authorization.date}' != '{amz_date[:8]}', from '{amz_date}'.",
        )
    now = now or datetime.now(timezone.utc)
    fmt = "%Y%m%dT%H%M%SZ"
    if when < now - MAX_SKEW:
        raise Refusal(
            "InvalidSignatureException", 403,
            f"Signature expired: {amz_date} is now earlier than {(now - MAX_SKEW).strftime(fmt)} ({now.strftime(fmt)} - 15 min.)",
        )
    if when > now + MAX_SKEW:
        raise Refusal(
            "InvalidSignatureException", 403,
            f"Signature not yet current: {amz_date} is still later than {(now + MAX_SKEW).strftime(fmt)} ({now.strftime(fmt)} + 15 min.)",
        )
    return amz_date


def check_lambda_caller(headers: Mapping[str, str], allowed: frozenset[str]) -> Authorization:
    """Host, Origin and the Authorization header's form: what every Lambda API request must pass
    before its body is read. Returns the parsed Authorization."""
    host = headers.get("host")
    if not host_allowed(host, allowed):
        raise Refusal(
            "AccessDeniedException", 403,
            f"lambdatui serve answers requests for its own address only (Host: {', '.join(sorted(allowed))}), not Host: {host!r}",
        )
    if headers.get("origin") is not None:
        raise Refusal(
            "AccessDeniedException", 403,
            "Requests from web pages (with an Origin header) are refused: the Lambda API answers SDKs and the AWS CLI only",
        )
    authorization = parse_authorization(headers.get("authorization"))
    request_time(headers, authorization)
    return authorization


def verify_signature(
    key: SigningKey,
    region: str,
    authorization: Authorization,
    *,
    method: str,
    raw_path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
) -> None:
    """Recompute the request's SigV4 signature with `key`; a Refusal as AWS answers when the key is
    unknown, the scope wrong, the body not the one signed or the signature different."""
    if authorization.access_key_id != key.access_key_id:
        raise Refusal("UnrecognizedClientException", 403, "The security token included in the request is invalid.")
    if authorization.region != region:
        raise Refusal("InvalidSignatureException", 403, f"Credential should be scoped to a valid region, not '{authorization.region}'.")
    signed: dict[str, list[str]] = {}
    for name, value in headers:
        if name.lower() in authorization.signed_headers:
            signed.setdefault(name.lower(), []).append(value)
    missing = [h for h in authorization.signed_headers if h not in signed]
    if missing:
        raise Refusal("InvalidSignatureException", 403, f"The request does not carry the signed header(s) {', '.join(missing)}.")
    content_sha = signed.get("x-amz-content-sha256", [None])[0] or _header(headers, "x-amz-content-sha256")
    body_hash = hashlib.sha256(body).hexdigest() if body else _EMPTY_SHA256
    if content_sha is not None and content_sha != body_hash:
        # A signed hash that is not the body's would let a body be swapped under a valid signature.
        raise Refusal("InvalidSignatureException", 403, "The provided 'x-amz-content-sha256' header does not match what was computed.")
    request = AWSRequest(method=method, url=f"http://{signed['host'][0]}{raw_path}" + (f"?{query}" if query else ""), data=body)
    for name, values in signed.items():
        for value in values:
            request.headers.add_header(name, value)
    request.context["timestamp"] = _header(headers, "x-amz-date") or ""
    signer = SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), SERVICE, region)
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    expected = signer.signature(string_to_sign, request)
    if not hmac.compare_digest(expected, authorization.signature):
        # AWS follows this with the canonical request and string to sign it computed.
        raise Refusal(
            "InvalidSignatureException", 403,
            f"{_SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
            f"The String-to-Sign should have been\n'{string_to_sign}'\n",
        )


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None
