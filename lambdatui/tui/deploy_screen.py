"""The deploy dialog: where it goes (account from STS GetCallerIdentity, profile and region from the
AWS backend's `location()`), the plan for one local function, applied only when the user says so,
then an offer to open the function on the AWS backend in the same panes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static

from ..backends.base import BackendError
from .styles import load_tcss

if TYPE_CHECKING:  # boto3 is loaded when the dialog connects
    from ..backends.aws import AwsBackend
    from ..config import Config
    from ..deploy.plan import DeployPlan, DeployTarget


class DeployScreen(ModalScreen["AwsBackend | None"]):
    """Dismisses with the AWS backend to open (after a deploy and "Open on AWS"), else None."""

    DEFAULT_CSS = load_tcss("deploy_screen.tcss")
    BINDINGS = [
        Binding("escape", "close", "Close", id="deploy.close"),
        Binding("a", "apply", "Apply", id="deploy.apply"),
        Binding("o", "open", "Open on AWS", id="deploy.open"),
    ]

    class Progress(Message):
        def __init__(self, text: str, error: bool = False) -> None:
            super().__init__()
            self.text = text
            self.error = error

    class Planned(Message):
        def __init__(self, plan: DeployPlan, target: DeployTarget) -> None:
            super().__init__()
            self.plan = plan
            self.target = target

    class Applied(Message):
        pass

    def __init__(self, config: Config, function_name: str) -> None:
        super().__init__()
        self.config = config
        self.function_name = function_name
        self.plan: DeployPlan | None = None
        self.target: DeployTarget | None = None
        self.aws: AwsBackend | None = None
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Deploy {self.function_name} to AWS Lambda", id="deploy-title")
            yield Static("Target: finding the account…", id="deploy-target", markup=False)
            with VerticalScroll(id="deploy-plan"):
                yield Static("Packaging and reading the deployed function…", id="deploy-plan-text", markup=False)
            yield Static("", id="deploy-status", markup=False)
            with Horizontal():
                yield Button("Close", id="deploy-close")
                yield Button("Open on AWS", id="deploy-open", disabled=True)
                yield Button("Apply", id="deploy-apply", variant="warning", disabled=True)
        yield Footer()  # this dialog's keys, over the dashboard's (which do nothing while it is open)

    def on_mount(self) -> None:
        self._plan()

    def _connect(self) -> AwsBackend:
        from ..backends.aws import AwsBackend

        if self.aws is None:
            self.aws = AwsBackend(self.config)
        return self.aws

    @work(thread=True, exclusive=True, group="deploy")
    def _plan(self) -> None:
        from ..deploy.plan import deploy_target, make_plan

        try:
            aws = self._connect()
            target = deploy_target(aws)  # before the plan: Apply is never offered without it
            function = self.config.local.functions[self.function_name]
            plan = make_plan(aws, function, self.config, progress=self._progress)
        except (BackendError, Exception) as e:  # noqa: BLE001 - shown, never raised into the app
            self.post_message(self.Progress(str(e).splitlines()[0] if str(e) else type(e).__name__, error=True))
            return
        self.post_message(self.Planned(plan, target))

    def _progress(self, text: str) -> None:
        self.post_message(self.Progress(text))

    def on_deploy_screen_planned(self, message: Planned) -> None:
        plan = self.plan = message.plan
        self.target = message.target
        self.query_one("#deploy-target", Static).update(f"Target: {message.target.render()}")
        assert self.aws is not None  # planning connected first
        self.query_one("#deploy-plan-text", Static).update(plan.render())
        blocked = bool(plan.problems) or self.aws.read_only
        nothing = plan.action == "unchanged"
        self.query_one("#deploy-apply", Button).disabled = blocked or nothing
        if self.aws.read_only:
            self._status("aws.read_only is true: deploys are refused.", error=True)
        elif plan.problems:
            self._status("Cannot deploy: " + "; ".join(plan.problems), error=True)
        elif nothing:
            self._status("Already up to date: nothing to upload or change.")
            self.query_one("#deploy-open", Button).disabled = False
        else:
            self._status("Review the plan, then Apply (a).")
            self.query_one("#deploy-apply", Button).focus()

    @on(Button.Pressed, "#deploy-apply")
    def action_apply(self) -> None:
        if self.plan is None or self._busy or self.query_one("#deploy-apply", Button).disabled:
            return
        self._busy = True
        self.query_one("#deploy-apply", Button).disabled = True
        self._apply()

    @work(thread=True, exclusive=True, group="deploy")
    def _apply(self) -> None:
        from ..deploy.plan import apply_plan

        aws, plan = self.aws, self.plan
        assert aws is not None and plan is not None  # Apply is enabled once both are set
        try:
            function = self.config.local.functions[self.function_name]
            apply_plan(aws, plan, function, self.config, progress=self._progress)
        except Exception as e:  # noqa: BLE001 - shown in the dialog
            self.post_message(self.Progress(f"Deploy failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}", error=True))
            self._busy = False
            return
        self.post_message(self.Applied())

    def on_deploy_screen_applied(self, message: Applied) -> None:
        self._busy = False
        self._status(f"Deployed {self.function_name}. Open it on the AWS backend to invoke it there (o).")
        self.query_one("#deploy-open", Button).disabled = False
        self.query_one("#deploy-open", Button).focus()

    def on_deploy_screen_progress(self, message: Progress) -> None:
        self._status(message.text, error=message.error)
        if message.error and self.plan is None:
            # Planning failed: the placeholders must not go on saying it is under way (issue 16).
            self.query_one("#deploy-plan-text", Static).update("No plan: planning the deploy failed (below).")
            if self.target is None:
                self.query_one("#deploy-target", Static).update("Target: unknown")

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#deploy-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    @on(Button.Pressed, "#deploy-open")
    def action_open(self) -> None:
        if not self.query_one("#deploy-open", Button).disabled:
            self.dismiss(self.aws)

    @on(Button.Pressed, "#deploy-close")
    def action_close(self) -> None:
        if not self._busy:
            self.dismiss(None)
