"""Where the AWS backend points and with what: the profile, region and credentials resolved as the
AWS CLI resolves them, the clients' timeouts, and who answers an MFA prompt.

Profile: `--profile` > `aws.profile` > `AWS_PROFILE` > the default chain (botocore's own order).
Region: `--region` > `aws.region` > `AWS_REGION` > `AWS_DEFAULT_REGION` > the profile's `region` >
us-east-1 (AWS CLI v2: "AWS_REGION ... overrides the values in the environment variable
AWS_DEFAULT_REGION and the profile setting region"). The command line's values reach here through the
config (`cli.main.open_backend` writes them over `aws.profile`/`aws.region`).

Timeouts: every control-plane and logs call waits at most `Timeouts.read` for an answer (connect
`Timeouts.connect`) and is not sent again after a read timeout; only a synchronous `Invoke` waits for
the function's own timeout plus a margin, on a client of its own.

MFA: an assume-role profile with `mfa_serial` asks for a code when the credentials are first used.
botocore takes the asking function as the assume-role provider's prompter; the CLI's asks on the
terminal (`/dev/tty`, as getpass does) and, without one, fails with one line; the dashboard puts in
a dialog's.
"""

from __future__ import annotations

import getpass
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config as BotoConfig
from botocore.utils import JSONFileCache

if TYPE_CHECKING:
    from botocore.client import BaseClient

DEFAULT_REGION = "us-east-1"  # what the AWS CLI's documentation and botocore fall back to for Lambda
MAX_FUNCTION_TIMEOUT_S = 900  # Lambda's longest timeout: an invoke of an unknown function may run this long


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3
    read: float = 15  # control-plane and logs calls
    # A synchronous invoke may take the function's timeout, plus an on-demand init (up to 10 s, not
    # counted in the timeout) and the trip: the margin covers both.
    invoke_margin: float = 15

    def invoke_read(self, function_timeout: float | None) -> float:
        return (function_timeout or MAX_FUNCTION_TIMEOUT_S) + self.invoke_margin


# -- MFA -----------------------------------------------------------------------------------------

MfaPrompter = Callable[[str], str]  # botocore's prompter: the prompt in, the code out
CodeAsker = Callable[[str, str], str]  # lambdatui's: the prompt and the profile's name in, the code out


class MfaCodeUnavailable(botocore.exceptions.BotoCoreError):
    """No one can be asked for the MFA code (no terminal). A BotoCoreError, so that every caller of
    a client, which handles those, turns it into one line."""

    fmt = "profile {profile} needs an MFA code: run it in a terminal"


class MfaCodeNotGiven(botocore.exceptions.BotoCoreError):
    fmt = "no MFA code was given for profile {profile}"


def ask_on_terminal(prompt: str, profile: str) -> str:
    """Ask on the controlling terminal (not stdin, which may carry an event); none: one line."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise MfaCodeUnavailable(profile=profile) from None
    os.close(fd)
    try:
        code = getpass.getpass(prompt)  # reads /dev/tty without echo, as the AWS CLI does
    except EOFError:
        raise MfaCodeNotGiven(profile=profile) from None
    if not code.strip():
        raise MfaCodeNotGiven(profile=profile)
    return code.strip()


_asker: CodeAsker | None = None  # set by the dashboard while it runs (its dialog)


def set_mfa_asker(asker: CodeAsker | None) -> None:
    """Who asks for MFA codes in this process (None: the terminal). The dashboard puts in its dialog
    for every AWS session made while it runs, the deploy dialog's included."""
    global _asker
    _asker = asker


def mfa_asker() -> CodeAsker:
    return _asker or ask_on_terminal


# -- resolution ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """What a session will use, and the names to show for it."""

    session: boto3.Session
    profile: str | None  # None: no profile named anywhere (botocore's default chain)
    region: str
    region_source: str  # where the region came from, for `describe`-like messages and tests

    @property
    def profile_label(self) -> str:
        return self.profile or "default"


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def resolve(profile: str | None, region: str | None, prompter: MfaPrompter | None = None) -> Resolved:
    """A boto3 session for `profile`/`region` as given in the config or on the command line (None:
    not given), resolved as the AWS CLI would. Raises botocore's ProfileNotFound for a profile that
    is in neither AWS file, whichever of `--profile`, `aws.profile` or `AWS_PROFILE` named it."""
    core = botocore.session.Session(profile=profile or None)
    # Without an explicit profile botocore reads AWS_PROFILE (and the older AWS_DEFAULT_PROFILE):
    # its answer is the profile in use, the one to name in messages and the header.
    used = profile or core.profile or None
    if used is not None and used not in core.available_profiles and used != "default":
        raise botocore.exceptions.ProfileNotFound(profile=used)
    source = "aws.region"
    chosen = region or None
    if chosen is None and (chosen := _env("AWS_REGION")):
        source = "AWS_REGION"
    if chosen is None and (chosen := _env("AWS_DEFAULT_REGION")):
        source = "AWS_DEFAULT_REGION"
    if chosen is None and (chosen := (core.get_scoped_config() or {}).get("region") or None):
        source = f"profile {used or 'default'}"
    if chosen is None:
        chosen, source = DEFAULT_REGION, "default"
    core.set_config_variable("region", chosen)
    _configure_assume_role(core, prompter)
    return Resolved(boto3.Session(botocore_session=core, region_name=chosen), used, chosen, source)


def _configure_assume_role(core: botocore.session.Session, prompter: MfaPrompter | None) -> None:
    """Give botocore's assume-role provider the MFA prompter and the AWS CLI's credential cache
    (~/.aws/cli/cache: a code typed for `aws` serves lambdatui until the role's session expires,
    and the other way round; botocore computes the same cache key as the CLI)."""
    resolver = core.get_component("credential_provider")
    provider = resolver.get_provider("assume-role")
    if prompter is not None:
        # The provider's constructor argument; botocore's resolver builds the provider itself, so it
        # is set on the built one (its only use is to be handed to the fetcher, at load time).
        provider._prompter = prompter
    provider.cache = JSONFileCache(str(Path.home() / ".aws" / "cli" / "cache"))


def region_for(profile: str | None) -> str | None:
    """The region `profile` would use given no --region or aws.region (None: it cannot be read)."""
    try:
        return resolve(profile, None).region
    except botocore.exceptions.BotoCoreError:
        return None


def available_profiles() -> list[str]:
    """The profiles in the user's AWS config and credentials files (what `aws configure list-profiles`
    lists), sorted; unreadable files give none rather than an error."""
    try:
        return sorted(botocore.session.Session().available_profiles)
    except botocore.exceptions.BotoCoreError:
        return []


def available_regions() -> list[str]:
    """The regions Lambda is offered in, from botocore's bundled endpoint data (no call made)."""
    session = botocore.session.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("lambda", partition_name=partition))
    return sorted(regions)


# -- clients -------------------------------------------------------------------------------------


def _no_resend_after_read_timeout(caught_exception: Exception | None = None, **_: Any) -> None:
    """botocore's standard retries send a request again after a read timeout. For a listing that
    multiplies a stalled endpoint's wait by the attempts; for a synchronous invoke it would run the
    function a second time after its answer was lost. The timeout is raised instead of retried;
    connection failures and throttles keep botocore's retries."""
    if isinstance(caught_exception, botocore.exceptions.ReadTimeoutError):
        raise caught_exception


def make_client(
    session: boto3.Session,
    service: str,
    *,
    region: str,
    endpoint_url: str | None,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
) -> BaseClient:
    config = BotoConfig(
        region_name=region,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        user_agent_extra="lambdatui",
    )
    client: BaseClient = session.client(service, endpoint_url=endpoint_url, config=config)  # type: ignore[call-overload]  # one call for several services
    event = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register_first(f"needs-retry.{event}", _no_resend_after_read_timeout)
    return client


class ClientCache:
    """Clients made on first use, under a lock (the dashboard's workers ask from several threads).
    Making one resolves the credentials (a `credential_process` runs then), so it happens inside the
    caller's error handling, not when the backend is built."""

    def __init__(self, factory: Callable[[str, float], BaseClient]) -> None:
        self._factory = factory
        self._clients: dict[tuple[str, float], BaseClient] = {}
        self._lock = threading.Lock()

    def get(self, service: str, read_timeout: float) -> BaseClient:
        key = (service, read_timeout)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._factory(service, read_timeout)
            return client
