"""`lambdatui deploy NAME|--all [--dry-run] [--publish [--alias A]]`: package local functions and
create or update them on AWS — configuration, reserved concurrency, and with `--publish` a new
version with `--alias` pointed at it. The plan names the target account, profile and region first."""

from __future__ import annotations

import argparse
import sys

from .main import UsageError, open_backend


def run_deploy(args: argparse.Namespace) -> int:
    from ..config import load_config
    from ..deploy.plan import DeployError, apply_plan, deploy_target, make_plan

    config = load_config(getattr(args, "config", None))
    functions = config.local.functions
    name = getattr(args, "name", None)
    if getattr(args, "all", False):
        if name:
            raise UsageError("give a function name or --all, not both")
        if not functions:
            raise UsageError("there are no functions under local.functions to deploy")
        names = list(functions)
    elif name:
        if name not in functions:
            known = ", ".join(functions) or "none"
            raise UsageError(f"no function {name!r} under local.functions (configured: {known})")
        names = [name]
    else:
        raise UsageError("deploy needs a function name, or --all")
    publish = bool(getattr(args, "publish", False))
    alias = getattr(args, "alias", None)
    if alias and not publish:
        raise UsageError("--alias needs --publish: an alias points at a published version")

    args.backend = "aws"  # deploy always targets the aws: section, whatever `backend:` says
    backend = open_backend(args, config)
    from ..backends.aws import AwsBackend  # loaded by open_backend

    assert isinstance(backend, AwsBackend)  # the backend is "aws"
    dry_run = getattr(args, "dry_run", False)
    if backend.read_only and not dry_run:
        print(f"lambdatui: not deploying: aws.read_only is true for {backend.describe()}", file=sys.stderr)
        return 1

    def progress(message: str) -> None:
        print(message, flush=True)

    failed: list[str] = []
    try:
        print(f"Deploying to {backend.describe()}{' (dry run)' if dry_run else ''}", flush=True)
        try:
            print(f"Target: {deploy_target(backend).render()}", flush=True)
        except DeployError as e:
            print(f"lambdatui: {e}", file=sys.stderr, flush=True)
            return 1
        for n in names:
            function = functions[n]
            try:
                plan = make_plan(backend, function, config, progress=progress, publish=publish, alias=alias)
                print(plan.render(), flush=True)
                if plan.problems:
                    # A dry run with problems fails too, so it can gate a pipeline.
                    raise DeployError(f"{n} {'cannot be' if dry_run else 'was not'} deployed: {plan.problems[0]}")
                if dry_run:
                    continue
                result = apply_plan(backend, plan, function, config, progress=progress)
                print(f"{n}: {result.get('FunctionArn', '')} · CodeSha256 {result.get('CodeSha256', '')}", flush=True)
                if plan.published_version is not None:
                    pointed = f" · alias {plan.alias} → {plan.published_version}" if plan.alias else ""
                    print(f"{n}: version {plan.published_version}{pointed}", flush=True)
            except DeployError as e:
                print(f"lambdatui: {e}", file=sys.stderr, flush=True)
                failed.append(n)
    finally:
        backend.close()
    if failed:
        if len(names) > 1:
            print(f"lambdatui: {len(failed)} of {len(names)} functions not deployed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
