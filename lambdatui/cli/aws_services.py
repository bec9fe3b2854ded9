"""`lambdatui aws-services env|reset`: the embedded AWS services (lambdatui.aws_services) that a
`serve`, a dashboard or an `invoke` with --aws-services is running on this state folder.

`env` prints what the user's shell, scripts and the AWS CLI need to call them (`export` lines, or
`--json`); `reset` returns them to the seed state. Both say plainly when none are running."""

from __future__ import annotations

import argparse
import json
import shlex

from .main import UsageError


def run_aws_services(args: argparse.Namespace) -> int:
    from ..aws_services import EmbeddedServices, ServicesError, running_endpoint
    from ..backends.local import default_state_dir

    state_dir = default_state_dir()
    endpoint = running_endpoint(state_dir, _region(args))
    if endpoint is None:
        raise ServicesError(
            f"no AWS services are running for the state folder {state_dir} "
            "(start them with `lambdatui serve --aws-services` or local.aws_services in the config)"
        )
    if args.aws_services_command == "env":
        env = endpoint.function_env()
        if args.json:
            print(json.dumps(env, indent=2))
        else:
            for key, value in env.items():
                print(f"export {key}={shlex.quote(value)}")
        return 0
    if args.aws_services_command == "reset":
        EmbeddedServices(endpoint, state_dir).reset()
        print(f"AWS services {endpoint.url} reset to their seed state")
        return 0
    raise UsageError(f"unknown action {args.aws_services_command!r}")  # pragma: no cover - argparse checks


def _region(args: argparse.Namespace) -> str:
    """local.region of the configuration, when one is found (the region the functions are given)."""
    from ..config import LocalSettings, load_config
    from ..yaml_nodes import ConfigError

    try:
        return load_config(getattr(args, "config", None), triggers=False).local.region
    except ConfigError:
        if getattr(args, "config", None):
            raise
        return LocalSettings().region
