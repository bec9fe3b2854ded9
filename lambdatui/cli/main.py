"""Argument parsing and dispatch for `lambdatui`. Exit status: 0 ok, 1 a function or backend failed,
2 bad usage, configuration or input.

Subcommands import what they need when they run, so `invoke` and `list` never load Textual, and
commands that need neither the configuration nor a backend (`cost`, `schedule`, `--version`) load
neither: the errors this module turns into messages are told apart by the module that defines
them, which is loaded only by a command that can raise them.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from .. import __version__

if TYPE_CHECKING:  # subcommands import what they need when they run
    from ..backends.base import Backend
    from ..config import Config


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def _common(parser: argparse.ArgumentParser, top: bool = False) -> None:
    # On subcommands the defaults are SUPPRESS, so `lambdatui --config F list` keeps the F given
    # before the subcommand instead of argparse overwriting it with the subcommand's None.
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--config", "--template", metavar="FILE", default=default, help="configuration file, or a SAM/CloudFormation template (default: see README)")
    _template_options(parser, default)
    parser.add_argument("--backend", choices=("local", "aws"), default=default, help="override the config's backend")
    parser.add_argument("--profile", default=default, help="AWS profile (aws backend)")
    parser.add_argument("--region", default=default, help="AWS region (aws backend)")
    parser.add_argument("--endpoint-url", dest="endpoint_url", metavar="URL", default=default, help="AWS endpoint (aws backend)")


def _template_options(parser: argparse.ArgumentParser, default: Any) -> None:
    # As SAM CLI's options of the same names (lambdatui.templates.params).
    parser.add_argument("--parameter-overrides", dest="parameter_overrides", nargs="+", action="extend", metavar="KEY=VALUE", default=default, help="a template's parameter values")
    parser.add_argument("--env-vars", dest="env_vars", metavar="FILE", default=default, help="environment variables in SAM's env.json format")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambdatui",
        description="A terminal dashboard for AWS Lambda. With no command, opens the dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"lambdatui {__version__}")
    _common(parser, top=True)
    parser.add_argument(
        "--serve", action="store_true",
        help="with the dashboard: also run the Lambda API (port 3001) and the triggers, as `serve` does",
    )
    _aws_services_option(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("init", help="write a starter project (lambdatui.yaml, Python and Node.js functions, events)")
    p.add_argument("dir", nargs="?", help="the folder to write into (default: the current one)")
    p.add_argument("--runtime", default="python3.12", choices=("python3.12", "nodejs20.x", "provided.al2023"), help="the hello-world's runtime (default python3.12)")
    p.add_argument("--force", action="store_true", help="overwrite files that are already there")

    p = sub.add_parser("new", help="add a function to the configuration: a folder with a handler, an event, the YAML entry")
    p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="configuration file")
    p.add_argument("name", help="the function's name")
    p.add_argument("--runtime", required=True, metavar="RUNTIME", help="python3.12, nodejs20.x, provided.al2023, ...")
    p.add_argument("--template", default="hello", choices=("hello", "api", "sqs", "s3", "schedule"), help="the handler to start from (default hello)")

    p = sub.add_parser("invoke", help="invoke a function and print the response, figures and log tail")
    _common(p)
    p.add_argument("name", help="function name")
    p.add_argument("--event", metavar="FILE|-", help="event JSON from a file, or - for standard input (default {})")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="invoke N times (default 1)")
    p.add_argument("--concurrency", type=int, default=1, metavar="C", help="at most C invocations at once (default 1)")
    p.add_argument("--json", action="store_true", help="one JSON object per invocation, one per line")
    p.add_argument("--qualifier", metavar="Q", help="$LATEST (default), a version or an alias (NAME:ALIAS works too)")
    p.add_argument("--invocation-type", dest="invocation_type", default="RequestResponse", choices=("RequestResponse", "Event", "DryRun"), help="Event: queued, 202; DryRun: checked, 204 (default RequestResponse)")
    p.add_argument("--yes", "-y", action="store_true", help="invoke without asking when aws.confirm_invoke is set (no terminal needed)")
    _aws_services_option(p)
    p.add_argument("--verbose", "-v", action="store_true", help="say more on stderr (the AWS services' URL)")

    p = sub.add_parser("web", help="serve the dashboard to a browser (textual-serve), for demos")
    _common(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")

    p = sub.add_parser("serve", help="run the local functions behind a Lambda API and their triggers")
    p.add_argument("--config", "--template", metavar="FILE", default=argparse.SUPPRESS, help="configuration file, or a SAM/CloudFormation template")
    _template_options(p, argparse.SUPPRESS)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=3001, help="Lambda API port (default 3001, as SAM's start-lambda)")
    p.add_argument("--http-port", dest="http_port", type=int, default=3000, help="HTTP triggers port (default 3000, as SAM's start-api)")
    p.add_argument(
        "--persist-changes", dest="persist_changes", action="store_true",
        help="write UpdateFunctionConfiguration and concurrency changes made through the API to the config file "
        "(by default they change the running server only)",
    )
    _aws_services_option(p)

    p = sub.add_parser("aws-services", help="the embedded AWS services: print their environment, reset them to the seed")
    aws_sub = p.add_subparsers(dest="aws_services_command", metavar="ACTION", required=True)
    q = aws_sub.add_parser("env", help="print `export AWS_ENDPOINT_URL=...` lines for your shell and the AWS CLI")
    q.add_argument("--json", action="store_true", help="one JSON object instead")
    q.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="configuration file (its local.region)")
    q = aws_sub.add_parser("reset", help="back to the seed state: every table, bucket, queue, parameter and secret")
    q.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="configuration file (its local.region)")

    p = sub.add_parser("schedule", help="print the next fire times of an EventBridge schedule expression")
    p.add_argument("expression", help='rate(5 minutes) or cron(0 12 * * ? *)')
    p.add_argument("--after", metavar="ISO8601", help="start after this UTC time (default now)")
    p.add_argument("--count", type=int, default=5, metavar="N", help="how many fire times (default 5)")

    p = sub.add_parser("cost", help="estimate a month of a function's invocations on AWS Lambda, in USD")
    p.add_argument("--memory", type=int, required=True, metavar="MB", help="memory size, 128-10240 MB")
    p.add_argument("--duration-ms", dest="duration_ms", type=float, required=True, metavar="MS", help="duration of one invocation (billed rounded up to the ms)")
    p.add_argument("--invocations", type=int, required=True, metavar="N", help="invocations a month")
    p.add_argument("--architecture", choices=("x86_64", "arm64"), default="x86_64", help="default x86_64")
    p.add_argument("--no-free-tier", dest="no_free_tier", action="store_true", help="leave out the monthly free tier")
    p.add_argument("--ephemeral-storage", dest="ephemeral_storage", type=int, default=512, metavar="MB", help="/tmp size, 512-10240 MB (default 512)")
    p.add_argument("--provisioned-concurrency", dest="provisioned_concurrency", type=int, default=0, metavar="N", help="environments kept warm all month (730 h)")
    p.add_argument("--json", action="store_true", help="the totals and the breakdown as JSON")

    p = sub.add_parser("send-message", help="put a message on a local SQS queue (delivered by serve)")
    p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="configuration file")
    p.add_argument("queue", help="queue name, as in an sqs trigger")
    p.add_argument("body", help="message body")

    p = sub.add_parser("list", help="list functions")
    _common(p)
    p.add_argument("--json", action="store_true", help="a JSON list of objects")
    p.add_argument("--reveal", action="store_true", help="show environment values that look like secrets")

    p = sub.add_parser("show", help="everything about a function: settings, versions, aliases, URL, triggers, logging, VPC, tags")
    _common(p)
    p.add_argument("name", help="function name (NAME:QUALIFIER works too)")
    p.add_argument("--qualifier", metavar="Q", help="$LATEST (default), a version or an alias")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--reveal", action="store_true", help="show environment values that look like secrets")

    p = sub.add_parser("logs", help="print a function's log lines; --follow to keep printing new ones")
    _common(p)
    p.add_argument("name", help="function name")
    p.add_argument(
        "--since", default="10m", metavar="WHEN",
        help="from this long ago (30s, 10m, 2h, 1d) or an ISO 8601 time, UTC unless given (default 10m)",
    )
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new lines until ctrl+c")
    p.add_argument(
        "--filter", dest="filter_pattern", metavar="PATTERN",
        help='a CloudWatch Logs filter pattern: ERROR, "exact phrase", ?ERROR ?WARN, ERROR -retry',
    )

    p = sub.add_parser("stats", help="a function's invocations, errors, cold starts, durations and cost over a window")
    _common(p)
    p.add_argument("name", help="function name")
    p.add_argument(
        "--since", default="1h", metavar="WHEN",
        help="from this long ago (30s, 10m, 2h, 1d) or an ISO 8601 time, UTC unless given (default 1h)",
    )
    p.add_argument("--json", action="store_true", help="the figures as one JSON object")
    p.add_argument("--qualifier", metavar="Q", help="an alias or version: its own figures (NAME:ALIAS works too)")

    p = sub.add_parser("build", help="install local functions' requirements.txt / package.json dependencies for local runs")
    p.add_argument("names", nargs="*", metavar="NAME", help="functions to build (default: every local function)")
    p.add_argument("--force", action="store_true", help="install again even when the cache is up to date")
    p.add_argument("--config", "--template", metavar="FILE", default=argparse.SUPPRESS, help="configuration file, or a SAM/CloudFormation template")
    _template_options(p, argparse.SUPPRESS)

    p = sub.add_parser("deploy", help="package local functions and create or update them on AWS Lambda")
    p.add_argument("name", nargs="?", help="function name (from local.functions)")
    p.add_argument("--all", action="store_true", help="deploy every function under local.functions")
    p.add_argument("--dry-run", dest="dry_run", action="store_true", help="print the plan and change nothing")
    p.add_argument("--publish", action="store_true", help="publish a version after the update (PublishVersion)")
    p.add_argument("--alias", metavar="ALIAS", help="point this alias at the published version (created if missing); needs --publish")
    p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="configuration file")
    p.add_argument("--profile", default=argparse.SUPPRESS, help="AWS profile")
    p.add_argument("--region", default=argparse.SUPPRESS, help="AWS region")
    p.add_argument("--endpoint-url", dest="endpoint_url", metavar="URL", default=argparse.SUPPRESS, help="AWS endpoint")
    return parser


def _aws_services_option(parser: argparse.ArgumentParser, top: bool = False) -> None:
    parser.add_argument(
        "--aws-services", dest="aws_services", action="store_true", default=False if top else argparse.SUPPRESS,
        help="local backend: run embedded AWS services (moto) that every function's SDK calls (see local.aws_services)",
    )


def wants_aws_services(args: argparse.Namespace, config: Config, local: bool) -> bool:
    """Whether this command runs the embedded AWS services: --aws-services or local.aws_services,
    on the local backend only (--aws-services on another is a usage error)."""
    flag = bool(getattr(args, "aws_services", False))
    if flag and not local:
        raise UsageError("--aws-services runs AWS services for local functions: it needs the local backend")
    if flag and config.local.aws_services is None:
        from ..config import AwsServicesSettings

        config.local.aws_services = AwsServicesSettings()
    return local and config.local.aws_services is not None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "parameter_overrides", None) or getattr(args, "env_vars", None):
            from ..templates import options_from_args, set_options

            try:
                set_options(options_from_args(getattr(args, "parameter_overrides", None), getattr(args, "env_vars", None)))
            except ValueError as e:
                raise UsageError(str(e)) from None
        code = _dispatch(args)
        # Flushed here, inside the guard: what is still buffered would otherwise meet a closed pipe
        # in the interpreter's final flush, outside any handler ("Exception ignored ... BrokenPipeError").
        sys.stdout.flush()
        return code
    except UsageError as e:
        print(f"lambdatui: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_gone()
    except Exception as e:
        if _is(e, "lambdatui.yaml_nodes", "ConfigError"):  # config.ConfigError
            print(f"lambdatui: config error: {e}", file=sys.stderr)
            return 2
        if (
            _is(e, "lambdatui.backends.base", "BackendError") or _is(e, "lambdatui.cli.confirm", "NotConfirmed")
            or _is(e, "lambdatui.aws_services", "ServicesError")
        ):
            print(f"lambdatui: {e}", file=sys.stderr)
            return 1
        if _is(e, "botocore.exceptions", "BotoCoreError") or _is(e, "botocore.exceptions", "ClientError"):
            # A boto3 call outside a backend's own handling: the same one line as the backend's.
            from ..backends.aws_errors import translate

            print(f"lambdatui: {translate(e)}", file=sys.stderr)
            return 1
        raise


def _reader_gone() -> int:
    """The reader of stdout went away (`lambdatui list | head`): stop quietly with SIGPIPE's status,
    as Unix tools do. stdout goes to /dev/null so the interpreter's own final flush fails no more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + 13


def _dispatch(args: argparse.Namespace) -> int:
    if args.command is not None:
        # The garbage collector, paused while the command started (lambdatui.__main__), collects
        # again; the dashboard (no command) lets it once its first frame is on screen.
        from .. import startup_gc

        startup_gc.resume()
    if args.command in ("invoke", "serve", "build"):
        # A first run after a requirements.txt / package.json change installs them: say so on stderr.
        from ..executor.dependencies import add_listener

        add_listener(lambda _function, message: print(message, file=sys.stderr, flush=True))
    if args.command == "init":
        from .project import run_init

        return run_init(args)
    if args.command == "new":
        from .project import run_new

        return run_new(args)
    if args.command == "invoke":
        from .invoke import run_invoke

        return run_invoke(args)
    if args.command == "serve":
        from .serve import run_serve

        return run_serve(args)
    if args.command == "schedule":
        from .schedule import run_schedule

        return run_schedule(args)
    if args.command == "cost":
        from .cost import run_cost

        return run_cost(args)
    if args.command == "send-message":
        from .send_message import run_send_message

        return run_send_message(args)
    if args.command == "web":
        from .web import run_web

        return run_web(args)
    if args.command == "list":
        from .listing import run_list

        return run_list(args)
    if args.command == "show":
        from .show import run_show

        return run_show(args)
    if args.command == "logs":
        from .logs import run_logs

        return run_logs(args)
    if args.command == "stats":
        from .stats import run_stats

        return run_stats(args)
    if args.command == "build":
        from .build import run_build

        return run_build(args)
    if args.command == "deploy":
        from .deploy import run_deploy

        return run_deploy(args)
    if args.command == "aws-services":
        from .aws_services import run_aws_services

        return run_aws_services(args)
    from .dashboard import run_dashboard

    return run_dashboard(args)


def _is(error: BaseException, module: str, name: str) -> bool:
    """Whether `error` is a `module.name`, without importing `module` (not loaded, it raised nothing)."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(error, getattr(loaded, name))


def open_backend(args: argparse.Namespace, config: Config | None = None, **options: Any) -> Backend:
    """The configured backend with the command line's overrides applied (to `config` too)."""
    from ..backends import make_backend
    from ..config import load_config

    if config is None:
        config = load_config(args.config)
    if getattr(args, "profile", None):
        config.aws.profile = args.profile
    if getattr(args, "region", None):
        config.aws.region = args.region
    if getattr(args, "endpoint_url", None):
        config.aws.endpoint_url = args.endpoint_url
    kind = getattr(args, "backend", None) or config.backend
    if kind != "local":
        options = {}
    return make_backend(config, backend=kind, **options)
