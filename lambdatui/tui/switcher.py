"""The AWS profile and region switcher: a small dialog the command palette opens.

Both are picked from lists, not typed: the profiles in the user's AWS config and credentials files
(botocore's `available_profiles`, what `aws configure list-profiles` shows) and the regions Lambda is
offered in (botocore's bundled endpoint data). Choosing a profile moves the region to the one that
profile would use (AWS_REGION, AWS_DEFAULT_REGION, its own `region`, us-east-1), as the AWS CLI would.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Select

from .styles import load_tcss

DEFAULT_CHAIN = ""  # the profile option meaning: name none (AWS_PROFILE, else the default chain)


class SwitchAwsScreen(ModalScreen[tuple[str, str] | None]):
    """Asks for a profile and a region; dismisses with (profile, region) or None. A profile of ""
    names none: botocore's default chain (AWS_PROFILE when set)."""

    DEFAULT_CSS = load_tcss("switcher.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="switch.cancel")]

    def __init__(
        self,
        profile: str | None,
        region: str,
        *,
        profiles: list[str],
        regions: list[str],
        default_label: str = "default credential chain",
        region_for: Callable[[str | None], str] | None = None,
    ) -> None:
        super().__init__()
        self._profile = profile or DEFAULT_CHAIN
        self._region = region
        self._profiles = list(profiles)
        if self._profile and self._profile not in self._profiles:
            self._profiles.append(self._profile)  # in use, though no longer in the files
        # A region the endpoint data does not list yet (a new one, an emulator's) stays choosable.
        self._regions = sorted({*regions, region})
        self._default_label = default_label
        self._region_for = region_for
        self._shown_profile = self._profile

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("AWS profile (from ~/.aws/config and ~/.aws/credentials)")
            options = [(f"({self._default_label})", DEFAULT_CHAIN)] + [(p, p) for p in self._profiles]
            yield Select(options, value=self._profile, allow_blank=False, id="switch-profile")
            yield Label("Region")
            yield Select([(r, r) for r in self._regions], value=self._region, allow_blank=False, id="switch-region")
            with Horizontal():
                yield Button("Cancel", id="switch-cancel")
                yield Button("Switch", id="switch-ok", variant="primary")
        yield Footer()  # this dialog's keys, over the dashboard's (which do nothing while it is open)

    def on_mount(self) -> None:
        self.query_one("#switch-profile", Select).focus()

    @on(Select.Changed, "#switch-profile")
    def _profile_changed(self, event: Select.Changed) -> None:
        if self._region_for is None or event.value == self._shown_profile:
            return  # Select announces its first value too: only a choice moves the region
        self._shown_profile = str(event.value)
        profile = str(event.value) or None
        region = self._region_for(profile)
        regions = self.query_one("#switch-region", Select)
        if region not in self._regions:
            self._regions = sorted({*self._regions, region})
            regions.set_options([(r, r) for r in self._regions])
        regions.value = region

    @on(Button.Pressed, "#switch-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#switch-ok")
    def _ok(self) -> None:
        profile = self.query_one("#switch-profile", Select).value
        region = self.query_one("#switch-region", Select).value
        self.dismiss((str(profile), str(region)))
