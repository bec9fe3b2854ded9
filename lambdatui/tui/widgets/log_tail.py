"""The live log tail pane: one function's log events, followed as they arrive.

`LogTail` owns everything between `Backend.tail_logs` and the screen:

- the tail itself: one exclusive async worker per followed function, whose events land in an
  inbox (bounded: at most `max_lines` events) that a 20 Hz timer flushes into the view (one
  refresh per flush, never one per event, whatever the rate), and whose failures become a
  notification rather than a crash. Events are kept as plain `(timestamp, message)` tuples from
  the moment they arrive: the garbage collector stops tracking those, where thousands of
  `LogEvent`s waiting in the inbox outlived two collections and made the full ones frequent and
  slow (see `lambdatui.executor.logstore`);
- the lines: each event split into display lines (AWS joins a traceback's lines with "\\r"),
  at most `max_lines` kept, oldest dropped first;
- the view (`LogTailLines`): a virtualised line view that renders only the rows on screen,
  styled from the theme (platform lines dim, REPORT bold accent, errors and warnings coloured);
- follow/pause: scrolling up pauses the follow, new lines are still kept while the view stays
  put, End resumes (as toolong does);
- the filter (ctrl+f): a case-insensitive substring over each event's message;
- the status bar: following/paused/stopped, new lines while paused, the active filter;
- Live Tail (`t`, where the backend offers it: CloudWatch Logs on AWS): the tail polls (free) until
  the user asks for a live session, which is billed per minute — its rate, time and cost so far
  are in the status bar while it runs. It stops on `t` again, when another function is followed,
  or when the session ends (AWS ends them after three hours): then polling resumes, and a new
  session starts only when the user asks again. Lines the two streams both return around a switch
  are shown once.

It talks only to the `Backend` interface and knows nothing about the rest of the dashboard.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, overload

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollTo, ScrollUp
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, Static

from ...backends.base import BackendError
from ...executor.logstore import LogEvent
from ...figures import live_tail_cost, live_tail_usd_per_minute
from ..present import format_cost
from ..styles import load_tcss

if TYPE_CHECKING:
    from textual.selection import Selection
    from textual.timer import Timer
    from typing_extensions import Self

    from ...backends.base import Backend

__all__ = ["LogTail", "LogTailLines", "TailLine", "LineKind", "LineSequence", "classify", "split_event"]

# How far back `follow` starts: an hour, so a freshly selected function shows its recent runs.
BACKLOG_SECONDS = 3600
# The inbox is flushed into the view at most this often (seconds): coalescing is what keeps a
# busy function from turning every log line into a refresh.
FLUSH_INTERVAL = 1 / 20
# The worker yields to the event loop after this many events in a row: a backend that has its
# backlog (or a burst) ready answers `__anext__` without ever suspending, which would otherwise
# keep the UI from handling keys until the whole burst was read.
YIELD_EVERY = 256

# When the tail switches between polling and a Live Tail session, the new stream starts this long
# before the newest line shown (CloudWatch makes lines visible out of order), and the lines it
# returns again are recognised and skipped.
SWITCH_OVERLAP_SECONDS = 10.0

HSCROLL_MIN_STEP = 8  # columns Left/Right move, at least (a quarter of the view when wider)

TIME_WIDTH = 12  # "HH:MM:SS.mmm"
GAP = "  "
CONTINUATION_INDENT = "  "  # traceback lines sit under the message, a little further in
PREFIX_WIDTH = TIME_WIDTH + len(GAP)
_BLANK_TIME = " " * TIME_WIDTH

# ANSI escape sequences and the C0 controls that survive splitting: written as-is they would
# move the terminal's cursor or recolour everything after them.
_UNPRINTABLE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|[\x00-\x08\x0a-\x1f\x7f]")


class LineKind:
    """How a display line is styled; each maps to component classes of `LogTailLines`."""

    PLAIN = 0
    PLATFORM = 1  # START, END, INIT_START, INIT_REPORT: dim
    REPORT = 2  # bold, accent
    ERROR = 3
    WARNING = 4
    REPORT_ERROR = 5  # a REPORT with `Status: error|timeout`: bold, in the error colour


_COMPONENTS = {
    LineKind.PLAIN: (),
    LineKind.PLATFORM: ("logtail--platform",),
    LineKind.REPORT: ("logtail--report",),
    LineKind.ERROR: ("logtail--error",),
    LineKind.WARNING: ("logtail--warning",),
    LineKind.REPORT_ERROR: ("logtail--report", "logtail--error"),
}

_PLATFORM_PREFIXES = ("START RequestId:", "END RequestId:", "INIT_START", "INIT_REPORT", "EXTENSION", "TELEMETRY")
# "Runtime exited without providing a reason" is how a `sys.exit(0)` shows (recorded on AWS): an
# error like "Runtime exited with error", so coloured like one.
_ERROR_MARKERS = (
    "Task timed out after", "Runtime exited with error", "Runtime exited without providing a reason",
    "Status: error", "Status: timeout",
)


# The compact REPORT (`⏱ 1.2 ms · billed 2 ms · 41/128 MB`): the figures a REPORT line carries,
# which at 80 columns would sit past the right edge behind the 36-character request id.
_REPORT_NAMES = r"(?:Billed Duration|Init Duration|Duration|Memory Size|Max Memory Used|Status|Error Type)"
_REPORT_FIELD = re.compile(rf"({_REPORT_NAMES}): (.+?)(?=\s+{_REPORT_NAMES}:|\s*$)")


@lru_cache(maxsize=1024)
def compact_report(text: str) -> str | None:
    """`text` (a plain-text REPORT line) as `⏱ 1.2 ms · billed 2 ms · 41/128 MB`, with
    `· cold, init 112.5 ms` when it has an Init Duration and its Status and Error Type when failed;
    None for a line that is not one (LogFormat=JSON's records keep their JSON)."""
    if not text.startswith("REPORT RequestId:"):
        return None
    fields = {name: value.strip() for name, value in _REPORT_FIELD.findall(text)}
    if "Duration" not in fields:
        return None
    parts = [f"⏱ {fields['Duration']}"]
    if "Billed Duration" in fields:
        parts.append(f"billed {fields['Billed Duration']}")
    used, size = fields.get("Max Memory Used"), fields.get("Memory Size")
    if used and size:
        parts.append(f"{used.removesuffix(' MB')}/{size}")
    if "Init Duration" in fields:
        parts.append(f"cold, init {fields['Init Duration']}")
    if "Status" in fields:
        parts.append(fields["Status"] + (f" ({fields['Error Type']})" if "Error Type" in fields else ""))
    return " · ".join(parts)


def _is_error(text: str) -> bool:
    return any(marker in text for marker in _ERROR_MARKERS)


# LogFormat=JSON: platform records (`{"time": …, "type": "platform.report", "record": {…}}`) and the
# runtime's JSON application lines (`{"timestamp": …, "level": "ERROR", …}`), compact or spaced.
_JSON_TYPE = re.compile(r'"type"\s*:\s*"platform\.(\w+)"')
_JSON_FAILED = re.compile(r'"status"\s*:\s*"(?:error|failure|timeout)"')
_JSON_LEVEL = re.compile(r'"level"\s*:\s*"(ERROR|FATAL|CRITICAL|WARN|WARNING)"')


def _classify_json(text: str) -> int:
    platform = _JSON_TYPE.search(text)
    if platform is not None:
        failed = _JSON_FAILED.search(text) is not None
        if platform.group(1) == "report":
            return LineKind.REPORT_ERROR if failed else LineKind.REPORT
        return LineKind.ERROR if failed else LineKind.PLATFORM
    level = _JSON_LEVEL.search(text)
    if level is not None:
        return LineKind.WARNING if level.group(1).startswith("WARN") else LineKind.ERROR
    return LineKind.PLAIN


def classify(text: str) -> int:
    """The `LineKind` of one display line."""
    if text.startswith("{"):
        return _classify_json(text)
    if text.startswith(_PLATFORM_PREFIXES):
        # An INIT_REPORT with `Status: error` is the one place a failed init shows: red, not dim.
        return LineKind.ERROR if _is_error(text) else LineKind.PLATFORM
    if text.startswith("REPORT RequestId:"):
        return LineKind.REPORT_ERROR if _is_error(text) else LineKind.REPORT
    if text.startswith(("[ERROR]", "[CRITICAL]")) or _is_error(text):
        return LineKind.ERROR
    if text.startswith("[WARNING]"):
        return LineKind.WARNING
    # Node's console.error/warn lines: `<timestamp>\t<request id>\tERROR\t<message>`.
    if "\tERROR\t" in text:
        return LineKind.ERROR
    if "\tWARN\t" in text:
        return LineKind.WARNING
    return LineKind.PLAIN


# A kept line is stored as a plain tuple of these fields, all of them str/int/float/bool. Plain
# tuples of such values are ones Python's garbage collector stops tracking, so 10,000 kept lines
# add nothing to the (full, app-wide) collections that otherwise stall the UI for tens of ms.
# `TailLine` is the same tuple with names, built only when a line is handed out.
# (Final, so that indexing a stored line with them gives each field's own type.)
SEQ: Final = 0
TIMESTAMP: Final = 1
MESSAGE: Final = 2
TEXT: Final = 3
KIND: Final = 4
FIRST: Final = 5
StoredLine = tuple[int, float, str, str, int, bool]  # a kept line: TailLine's fields, in its order


class TailLine(NamedTuple):
    """One display line. An event gives one, or several when its message spans lines."""

    seq: int  # position in everything this pane has ever shown; stable while the line is kept
    timestamp: float  # the event's, epoch seconds
    message: str  # the event's whole message (shared by its lines): what the filter matches
    text: str  # this line's part of the message, tabs expanded, controls removed
    kind: int  # a LineKind
    first: bool  # the event's first line (carries the time); later ones are continuations

    @property
    def time(self) -> str:
        return _time_column(self)

    @property
    def display_text(self) -> str:
        return _display_text(self)

    @property
    def plain(self) -> str:
        """The line as shown: time (or blank under it), gap, text."""
        return _plain(self)


def _time_column(line: StoredLine) -> str:
    return short_time(line[TIMESTAMP]) if line[FIRST] else _BLANK_TIME


def _display_text(line: StoredLine) -> str:
    return line[TEXT] if line[FIRST] else CONTINUATION_INDENT + line[TEXT]


def _plain(line: StoredLine) -> str:
    return f"{_time_column(line)}{GAP}{_display_text(line)}"


class LineSequence(Sequence[TailLine]):
    """A read-only view of stored lines that hands each one out as a `TailLine`."""

    __slots__ = ("_lines",)

    def __init__(self, lines: deque[StoredLine]) -> None:
        self._lines = lines

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> TailLine: ...

    @overload
    def __getitem__(self, index: slice) -> list[TailLine]: ...

    def __getitem__(self, index: int | slice) -> TailLine | list[TailLine]:
        if isinstance(index, slice):
            return [TailLine._make(line) for line in list(self._lines)[index]]
        return TailLine._make(self._lines[index])

    def __iter__(self) -> Iterator[TailLine]:
        return map(TailLine._make, self._lines)

    def __repr__(self) -> str:
        return f"<{len(self)} lines>"


def short_time(epoch_seconds: float) -> str:
    """HH:MM:SS.mmm in UTC, as CloudWatch shows event times."""
    ms = int(epoch_seconds * 1000)
    return time.strftime("%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}"


def _clean(text: str) -> str:
    if "\t" in text:
        text = text.expandtabs(4)
    if not text.isprintable():
        text = _UNPRINTABLE.sub("", text)
    return text


def _cells(text: str) -> int:
    if text.isascii():
        return len(text)  # the common case, without rich's per-character width lookup
    from rich.cells import cell_len

    return cell_len(text)


# An event as the inbox keeps it, until it is split into lines: (timestamp, message).
Arrived = tuple[float, str]


def split_event(event: LogEvent, seq: int) -> list[StoredLine]:
    """The display lines of one event (as stored tuples, see `TailLine`), numbered from `seq`."""
    return _split(event.timestamp, event.message, seq)


def _split(timestamp: float, whole: str, seq: int) -> list[StoredLine]:
    message = whole.rstrip("\r\n")
    parts = message.splitlines() if ("\r" in message or "\n" in message) else [message]
    lines = []
    first_kind = LineKind.PLAIN
    for i, part in enumerate(parts or [""]):
        text = _clean(part)
        kind = classify(text)
        if i == 0:
            first_kind = kind
        elif first_kind in (LineKind.ERROR, LineKind.WARNING) and kind == LineKind.PLAIN:
            kind = first_kind  # a traceback's lines take the colour of the `[ERROR]` line they belong to
        lines.append((seq + i, timestamp, whole, text, kind, i == 0))
    return lines


class LogTailLines(ScrollView, can_focus=True, inherit_bindings=False):
    """The virtualised line view: keeps the lines, filters them, renders the visible rows.

    `render_line` indexes straight into a deque of kept lines, so the cost of a frame is the
    rows on screen, whatever the number of lines kept.
    """

    # Only the keys that move *within* the log: End is left to `LogTail`, where it resumes.
    BINDINGS = [
        Binding("up", "scroll_up", "Scroll up", show=False, id="logtail.scroll_up"),
        Binding("down", "scroll_down", "Scroll down", show=False, id="logtail.scroll_down"),
        Binding("left", "scroll_left", "Scroll left", show=False, id="logtail.scroll_left"),
        Binding("right", "scroll_right", "Scroll right", show=False, id="logtail.scroll_right"),
        Binding("pageup", "page_up", "Page up", show=False, id="logtail.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="logtail.page_down"),
        Binding("home", "scroll_home", "Top", show=False, id="logtail.scroll_home"),
    ]

    COMPONENT_CLASSES = {
        "logtail--time",
        "logtail--platform",
        "logtail--report",
        "logtail--error",
        "logtail--warning",
        "logtail--highlight",
    }

    DEFAULT_CSS = load_tcss("widgets/log_tail_lines.tcss")

    def __init__(self, max_lines: int, changed: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_lines = max(1, max_lines)
        self._changed = changed  # tells the pane to redraw its status bar
        self._store: deque[StoredLine] = deque()  # stored lines: see TailLine for the fields
        self._matches: deque[StoredLine] | None = None  # the kept lines passing the filter, when one is set
        self._needle = ""  # the filter, lower-cased
        self._seq = 0
        self._width = 0  # widest line shown, in cells (without the time prefix)
        self.following = True
        self.pending = 0  # lines added to the view since following paused
        self.highlight_seq: int | None = None
        self.raw_reports = False  # REPORT lines as written, rather than compact (`r` toggles)
        self._style_cache: dict[int | str, Style] | None = None  # see _styles
        # No strip cache: Textual already keeps the rendered rows until a refresh, and after one
        # (a flush) most rows are new lines anyway. A row costs a few microseconds to build.

    # -- the lines ---------------------------------------------------------------------------

    @property
    def lines(self) -> LineSequence:
        """Every kept line, oldest first (at most `max_lines`)."""
        return LineSequence(self._store)

    @property
    def shown(self) -> LineSequence:
        """The lines the view shows: the kept ones, or those matching the filter."""
        return LineSequence(self._shown)

    @property
    def _shown(self) -> deque[StoredLine]:
        return self._store if self._matches is None else self._matches

    @property
    def filter_text(self) -> str:
        return self._needle

    def add_events(self, batch: Iterable[Arrived], unseen: int = 0) -> None:
        """Split `batch` ((timestamp, message) of each event) into lines, keep them (dropping the
        oldest past `max_lines`) and redraw once.

        `unseen` counts lines that arrived with the batch but were dropped before it (there
        were more than `max_lines` of them); they only add to the paused view's new-line count.
        """
        store, matches, needle = self._store, self._matches, self._needle
        limit = self.max_lines
        added = evicted = 0
        width = self._width
        for timestamp, message in batch:
            lines = _split(timestamp, message, self._seq)
            self._seq += len(lines)
            shown = needle in message.lower() if needle else True
            for line in lines:
                if len(store) >= limit:
                    old = store.popleft()
                    if matches is None:
                        evicted += 1
                    elif matches and matches[0][SEQ] == old[SEQ]:
                        # both deques are in seq order, so an evicted match is always the oldest
                        matches.popleft()
                        evicted += 1
                store.append(line)
                if shown:
                    if matches is not None:
                        matches.append(line)
                    added += 1
                    cells = _cells(line[TEXT]) + (0 if line[FIRST] else len(CONTINUATION_INDENT))
                    if cells > width:
                        width = cells
        added += unseen
        self._width = width
        if not self.following:
            self.pending += added
        self._update_virtual_size()
        if self.following:
            # New lines bring the view back to its left edge (times and the start of each line):
            # an offset left from reading one long line would hide them.
            self.scroll_to(x=0, y=self.max_scroll_y, animate=False, force=True)
        elif evicted:
            # The lines the user is reading moved up by `evicted` rows: follow them, so a
            # paused view really does stay still (until what it showed is dropped).
            self.scroll_to(y=max(0, self.scroll_offset.y - evicted), animate=False, force=True)
        self.refresh()
        self._changed()

    def clear(self) -> None:
        self._store.clear()
        if self._matches is not None:
            self._matches.clear()
        self._width = 0
        self.pending = 0
        self.highlight_seq = None
        self.following = True
        self._update_virtual_size()
        self.scroll_to(0, 0, animate=False, force=True)
        self.refresh()
        self._changed()

    def set_filter(self, text: str) -> None:
        """Show only lines whose event message contains `text` (any case); "" shows all."""
        needle = text.lower()
        if needle == self._needle:
            return
        self._needle = needle
        if needle:
            # Matching the lower-cased message of each event once, not of every line of it.
            matches: deque[StoredLine] = deque()
            last_message: str | None = None
            hit = False
            for line in self._store:
                message = line[MESSAGE]
                if message is not last_message:  # an event's lines share its message object
                    last_message = message
                    hit = needle in message.lower()
                if hit:
                    matches.append(line)
            self._matches = matches
        else:
            self._matches = None
        self._width = max((_cells(_display_text(line)) for line in self._shown), default=0)
        self.pending = 0
        self._update_virtual_size()
        if self.following:
            self.scroll_to(y=self.max_scroll_y, animate=False, force=True)
        else:
            self.scroll_to(y=min(self.scroll_offset.y, self.max_scroll_y), animate=False, force=True)
        self.refresh()
        self._changed()

    def index_of_request(self, request_id: str) -> int | None:
        """Index in `shown` of the START line of `request_id`, else of the first line naming it."""
        start = f"START RequestId: {request_id}"
        fallback = None
        for index, line in enumerate(self._shown):
            text = line[TEXT]
            if text.startswith(start):
                return index
            if text.startswith("{") and request_id in text and _JSON_TYPE.search(text) and "platform.start" in text:
                return index  # LogFormat=JSON
            if fallback is None and request_id in text:
                fallback = index
        return fallback

    def keeps(self, text: str) -> bool:
        """Whether any kept line, shown or filtered out, contains `text`."""
        return any(text in line[TEXT] for line in self._store)

    def jump_to(self, index: int) -> None:
        """Pause, highlight line `index` of `shown` and scroll it to the top of the view."""
        line = self._shown[index]
        self.following = False
        self.pending = 0
        self.highlight_seq = line[SEQ]
        self.scroll_to(y=min(index, self.max_scroll_y), animate=False, force=True)
        self.refresh()
        self._changed()

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(PREFIX_WIDTH + self._width, len(self._shown))

    # -- follow / pause ----------------------------------------------------------------------

    def pause(self) -> None:
        if self.following:
            self.following = False
            self.pending = 0
            self._changed()

    def resume(self) -> None:
        """Follow again: jump to the newest line, at the left edge, and keep it in view."""
        self.following = True
        self.pending = 0
        if self.highlight_seq is not None:
            self.highlight_seq = None
            self.refresh()
        self.scroll_to(x=0, y=self.max_scroll_y, animate=False, force=True)
        self._changed()

    def _pause_if_scrolling_up(self) -> None:
        # Only a scroll that will move the view pauses: at the top (or with everything on one
        # screen) there is nothing above to read, and freezing the tail would only confuse.
        if self.scroll_offset.y > 0:
            self.pause()

    def action_scroll_up(self) -> None:
        self._pause_if_scrolling_up()
        self.scroll_up(animate=False, force=True)

    def action_page_up(self) -> None:
        self._pause_if_scrolling_up()
        self.scroll_page_up(animate=False, force=True)

    def action_scroll_home(self) -> None:
        self._pause_if_scrolling_up()
        self.scroll_to(x=0, y=0, animate=False, force=True)  # the top, and the left edge

    def action_scroll_down(self) -> None:
        self.scroll_down(animate=False, force=True)

    def _horizontal_step(self) -> int:
        # A quarter of the view per press: one column at a time would take 60 presses to
        # reach the end of a REPORT line.
        return max(HSCROLL_MIN_STEP, self.scrollable_content_region.width // 4)

    def action_scroll_right(self) -> None:
        self.scroll_to(x=self.scroll_offset.x + self._horizontal_step(), animate=False, force=True)

    def action_scroll_left(self) -> None:
        self.scroll_to(x=max(0, self.scroll_offset.x - self._horizontal_step()), animate=False, force=True)

    def toggle_raw_reports(self) -> None:
        self.raw_reports = not self.raw_reports
        self.refresh()

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False, force=True)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if not (event.ctrl or event.shift):  # with a modifier the wheel scrolls sideways
            self._pause_if_scrolling_up()

    @on(ScrollUp)
    def _scrollbar_up(self, event: ScrollUp) -> None:
        self._pause_if_scrolling_up()

    @on(ScrollTo)
    def _scrollbar_drag(self, event: ScrollTo) -> None:
        if event.y is not None and round(event.y) < self.max_scroll_y:
            self.pause()

    # -- rendering ---------------------------------------------------------------------------

    def style_for(self, line: StoredLine) -> Style:
        """The Rich style of a line's text, from the theme via the component classes."""
        return self._styles()[line[KIND]]

    def _styles(self) -> dict[int | str, Style]:
        """The styles rows are drawn in (base, time, each LineKind, highlight), worked out once per
        repaint: `rich_style` walks every ancestor, and asking it twice a row was a fifth of a busy
        tail's frame. Dropped whenever Textual drops its own component styles (`refresh` with a
        repaint, `notify_style_update`: a theme or CSS change), so they are never staler than those."""
        styles = self._style_cache
        if styles is None:
            base = self.rich_style
            styles = {"base": base, "time": base + self.get_component_rich_style("logtail--time")}
            for kind, names in _COMPONENTS.items():
                style = base
                for name in names:
                    style += self.get_component_rich_style(name)
                styles[kind] = style
            styles["mark"] = Style(bgcolor=self.get_component_rich_style("logtail--highlight").bgcolor)
            self._style_cache = styles
        return styles

    def notify_style_update(self) -> None:
        self._style_cache = None
        super().notify_style_update()

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if repaint:
            self._style_cache = None
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        shown = self._shown
        styles = self._styles()
        base = styles["base"]
        if index >= len(shown):
            return Strip.blank(width, base)
        line = shown[index]
        time_style = styles["time"]
        text_style = styles[line[KIND]]
        fill = base
        if line[SEQ] == self.highlight_seq:
            mark = styles["mark"]
            fill, time_style, text_style = base + mark, time_style + mark, text_style + mark
        text = _display_text(line)
        if line[KIND] in (LineKind.REPORT, LineKind.REPORT_ERROR) and not self.raw_reports:
            text = compact_report(text) or text
        strip = Strip(
            [Segment(_time_column(line), time_style), Segment(GAP, fill), Segment(text, text_style)],
            PREFIX_WIDTH + _cells(text),
        )
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(index)) is not None:
            strip = self._selected(strip, span)
        # The offsets let a mouse selection map screen cells back to (column, line index).
        return strip.crop_extend(scroll_x, scroll_x + width, fill).apply_offsets(scroll_x, index)

    def _selected(self, strip: Strip, span: tuple[int, int]) -> Strip:
        start, end = span
        text = Text.assemble(*((segment.text, segment.style or "") for segment in strip), no_wrap=True)  # "": no style, as None
        text.stylize(self.screen.get_component_rich_style("screen--selection"), start, len(text) if end == -1 else end)
        return Strip(text.render(self.app.console), strip.cell_length)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        text = "\n".join(_plain(line) for line in self._shown)
        return selection.extract(text), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()


class LogTailFilter(Input):
    """The filter box; Escape empties and hides it."""

    BINDINGS = [
        Binding("escape", "cancel_filter", "Close filter", show=False, id="logtail.cancel_filter"),
    ]

    def action_cancel_filter(self) -> None:
        tail = next((a for a in self.ancestors if isinstance(a, LogTail)), None)
        if tail is not None:
            tail.close_filter()


class LogTailStatus(Static):
    """The one-line status bar under the log."""


class LogTail(Widget):
    """The live log tail pane. See the module docstring for what it owns."""

    BINDINGS = [
        Binding("end", "resume", "Follow", id="logtail.resume"),
        Binding("ctrl+f", "filter", "Filter", id="logtail.filter"),
        Binding("ctrl+l", "clear", "Clear", id="logtail.clear"),
        Binding("t", "live_tail", "Live Tail", id="logtail.live_tail"),
        Binding("r", "raw_reports", "Raw REPORT", id="logtail.raw_reports"),
    ]

    DEFAULT_CSS = load_tcss("widgets/log_tail.tcss")

    def __init__(self, max_lines: int = 10_000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_lines = max(1, max_lines)
        self.function_name: str | None = None
        self._view = LogTailLines(self.max_lines, self._update_status)
        self._filter_input = LogTailFilter(placeholder="filter logs…", compact=True)
        self._filter_input.can_focus = False  # while hidden: keys must not vanish into it
        self._status = LogTailStatus(markup=False)
        self._status_text = ""
        self._status_classes = ""
        # Events the worker has received and the timer has not yet shown. Holding more than
        # `max_lines` events is pointless (each is at least one line), so the oldest go first;
        # `_inbox_received` still counts them for the paused view's new-line count.
        self._inbox: deque[Arrived] = deque(maxlen=self.max_lines)
        self._inbox_received = 0
        self._generation = 0  # bumped on every follow/stop, so a superseded tail never writes
        self._state = "idle"  # idle | following | ended | error
        self._error = ""
        self._flush_timer: Timer | None = None
        self._backend: Backend | None = None
        self._live_since: float | None = None  # monotonic start of the running Live Tail session
        self._live_timer: Timer | None = None
        # (timestamp, stream, message) of the lines shown in the last SWITCH_OVERLAP_SECONDS: what a
        # new stream may return again after a switch; `_skip` counts those still to be skipped.
        self._recent: deque[tuple[float, tuple[float, str, str]]] = deque()
        self._skip: Counter[tuple[float, str, str]] = Counter()

    def compose(self) -> ComposeResult:
        # The view comes first so it, not the (docked, hidden) filter box, is the pane's first
        # focusable widget when the app focuses one on start.
        yield self._view
        yield self._filter_input
        yield self._status

    def on_mount(self) -> None:
        # Runs only while a tail is live: an idle pane costs no timer wake-ups.
        self._flush_timer = self.set_interval(
            FLUSH_INTERVAL, self._flush, pause=self._state != "following", name="logtail-flush"
        )
        self._update_status()

    def focus(self, scroll_visible: bool = True) -> LogTail:
        """Focus the line view: the pane itself is a container and takes no focus."""
        self._view.focus(scroll_visible)
        return self

    # -- public API --------------------------------------------------------------------------

    @property
    def lines(self) -> LineSequence:
        """Every kept display line, oldest first (at most `max_lines`), as `TailLine`s."""
        return self._view.lines

    @property
    def shown_lines(self) -> LineSequence:
        """The display lines in view: all kept lines, or those matching the filter."""
        return self._view.shown

    def plain_lines(self) -> list[str]:
        """The lines in view as text, as shown: time (blank on continuations), gap, message."""
        return [_plain(line) for line in self._view._shown]

    @property
    def following(self) -> bool:
        return self._view.following

    @property
    def pending_lines(self) -> int:
        """Lines that arrived since the follow paused (0 while following)."""
        return self._view.pending

    @property
    def filter_text(self) -> str:
        return self._filter_input.value

    @property
    def status_text(self) -> str:
        return self._status_text

    @property
    def view(self) -> LogTailLines:
        return self._view

    def follow(self, backend: Backend, function_name: str | None) -> None:
        """Stop any tail, clear, and tail `function_name` (the last hour, then new lines); None just stops."""
        self.stop()
        self.clear()
        self._recent.clear()
        self._skip.clear()
        self.function_name = function_name
        self._backend = backend
        if function_name is None:
            self._state = "idle"
            self._update_status()
            return
        self._start(backend, function_name, time.time() - BACKLOG_SECONDS, live=False)

    def _start(self, backend: Backend, function_name: str, since: float, *, live: bool) -> None:
        self._state = "following"
        self._error = ""
        generation = self._generation
        if self._flush_timer is not None:
            self._flush_timer.resume()
        if live:
            self._live_since = time.monotonic()
            if self._live_timer is None:
                self._live_timer = self.set_interval(1.0, self._update_status, name="logtail-live-clock")
            else:
                self._live_timer.resume()
        self.run_worker(
            # A callable, not a coroutine: a worker superseded before it starts (the user moving
            # quickly through the function list) then never leaves an un-awaited coroutine.
            # (ignore: Textual's WorkType makes mypy infer Never for any async callable, Textual#6386)
            partial(self._tail, backend, function_name, generation, since, live),  # type: ignore[arg-type]
            name=f"{'live tail' if live else 'tail'} {function_name}",
            group="tail",
            exclusive=True,
        )
        self._update_status()

    @property
    def live(self) -> bool:
        """Whether a Live Tail session (billed per minute) is running."""
        return self._live_since is not None

    def start_live_tail(self) -> bool:
        """Switch the followed function's tail to a Live Tail session; False (with a notification)
        where there is nothing to follow or the backend has no Live Tail."""
        backend, name = self._backend, self.function_name
        if backend is None or name is None:
            self.app.notify("Select a function to tail first.", title="Live Tail", severity="warning")
            return False
        if not backend.capabilities.live_tail:
            self.app.notify(
                f"The {backend.name} backend's tail already shows lines as they are written.", title="Live Tail"
            )
            return False
        if self.live:
            return True
        self._switch(backend, name, live=True)
        return True

    def stop_live_tail(self, reason: str | None = None) -> None:
        """End the Live Tail session (if one runs) and go back to polling."""
        backend, name = self._backend, self.function_name
        if not self.live or backend is None or name is None:
            return
        self._switch(backend, name, live=False)
        if reason:
            self.app.notify(reason, title="Live Tail", markup=False)

    def _switch(self, backend: Backend, name: str, *, live: bool) -> None:
        self.stop()
        newest = self._recent[-1][0] if self._recent else None
        since = newest - SWITCH_OVERLAP_SECONDS if newest is not None else time.time() - BACKLOG_SECONDS
        self._skip = Counter(key for _, key in self._recent)
        self._start(backend, name, since, live=live)

    def _end_live_clock(self) -> float:
        """Stop the session clock; the seconds the session ran."""
        started, self._live_since = self._live_since, None
        if self._live_timer is not None:
            self._live_timer.pause()
        return 0.0 if started is None else time.monotonic() - started

    def stop(self) -> None:
        """Stop the running tail (and any Live Tail session), if any; the lines stay."""
        self._generation += 1
        self._end_live_clock()
        self.workers.cancel_group(self, "tail")
        self._flush()
        if self._flush_timer is not None:
            self._flush_timer.pause()
        if self._state == "following":
            self._state = "ended"
        self._update_status()

    def append(self, events: list[LogEvent]) -> None:
        """Show `events` now (one redraw for the whole list)."""
        batch = [(e.timestamp, e.message) for e in events]
        unseen = 0
        if len(batch) > self.max_lines:
            # Each event is at least one line, so only the last `max_lines` can be kept.
            skipped, batch = batch[: -self.max_lines], batch[-self.max_lines :]
            needle = self._view.filter_text
            unseen = sum(1 for _, message in skipped if not needle or needle in message.lower())
        self._view.add_events(batch, unseen)

    def clear(self) -> None:
        """Drop every line (the tail, if any, keeps running)."""
        self._inbox.clear()
        self._inbox_received = 0
        self._view.clear()

    def jump_to_request(self, request_id: str) -> bool:
        """Pause and scroll to the START line of `request_id`, highlighted; False if it is not kept."""
        self._flush()
        index = self._view.index_of_request(request_id)
        if index is None and self._view.filter_text:
            # The invocation is kept but the filter hides it: asking for it outranks the filter.
            if self._view.keeps(request_id):
                self.close_filter()
                index = self._view.index_of_request(request_id)
        if index is None:
            return False
        self._view.jump_to(index)
        return True

    def resume(self) -> None:
        self._view.resume()

    def pause(self) -> None:
        self._view.pause()

    def set_filter(self, text: str) -> None:
        """Filter to events whose message contains `text`, ignoring case ("" for all)."""
        if self._filter_input.value != text:
            with self._filter_input.prevent(Input.Changed):
                self._filter_input.value = text
        if text:
            self._show_filter_box(True)
        self._view.set_filter(text)

    def open_filter(self) -> None:
        """Show the filter box and put the cursor in it."""
        self._show_filter_box(True)
        self._filter_input.focus()

    def close_filter(self) -> None:
        """Empty and hide the filter box (focus, if it was there, goes back to the lines)."""
        if self._filter_input.has_focus:
            self._view.focus()
        self.set_filter("")
        self._show_filter_box(False)

    def _show_filter_box(self, show: bool) -> None:
        self._filter_input.can_focus = show
        self._filter_input.display = show

    # -- actions -----------------------------------------------------------------------------

    def action_resume(self) -> None:
        self.resume()

    def action_filter(self) -> None:
        self.open_filter()

    def action_clear(self) -> None:
        self.clear()

    def action_raw_reports(self) -> None:
        """`r`: REPORT lines as written (every field, the request id) or compact (the figures)."""
        self._view.toggle_raw_reports()

    def action_live_tail(self) -> None:
        if self.live:
            self.stop_live_tail()
        else:
            self.start_live_tail()

    @on(Input.Changed, "LogTailFilter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._view.set_filter(event.value)

    @on(Input.Submitted, "LogTailFilter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._view.focus()  # keep the filter, go back to reading

    # -- the tail ----------------------------------------------------------------------------

    def _seen_before(self, event: LogEvent) -> bool:
        """Whether a new stream returns `event` again after a switch; notes it as recent otherwise."""
        key = (event.timestamp, event.log_stream, event.message)
        if self._skip[key] > 0:
            self._skip[key] -= 1
            return True
        recent = self._recent
        recent.append((event.timestamp, key))
        newest = max(event.timestamp, recent[-1][0])
        while recent and recent[0][0] < newest - SWITCH_OVERLAP_SECONDS:
            recent.popleft()
        return False

    async def _tail(self, backend: Backend, name: str, generation: int, since: float, live: bool = False) -> None:
        inbox = self._inbox
        # Lines seen twice happen only around a switch to or from Live Tail: a backend without
        # one skips the bookkeeping (at 5,000 lines/s, ten seconds of it is 50,000 entries).
        dedupe = backend.capabilities.live_tail
        try:
            if live:
                stream = backend.live_tail(name, since=since)
            else:
                stream = backend.tail_logs(name, since=since, follow=True)
            try:
                count = 0
                async for event in stream:
                    if generation != self._generation:
                        return
                    if dedupe and self._seen_before(event):
                        continue
                    inbox.append((event.timestamp, event.message))
                    self._inbox_received += 1
                    count += 1
                    if count % YIELD_EVERY == 0:
                        await asyncio.sleep(0)
            finally:
                # Close the iterator here, in this task, so the backend unsubscribes now rather
                # than whenever the garbage collector finds the generator.
                await stream.aclose()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a failing backend stops this tail, never the app
            if generation == self._generation:
                if live:
                    self._live_finished(backend, name, error)
                else:
                    self._tail_finished(error)
        else:
            if generation == self._generation:
                if live:
                    self._live_finished(backend, name, None)
                else:
                    self._tail_finished(None)

    def _live_finished(self, backend: Backend, name: str, error: Exception | None) -> None:
        """A Live Tail session ended by itself or could not start: say so and poll again. Another
        session starts only when the user asks (`t`): it is billed per minute."""
        seconds = self._end_live_clock()
        if error is None:
            text = (
                f"Live Tail session for {name} ended after {_clock(seconds)} (AWS ends them after three hours). "
                "Polling again; press t for another session."
            )
            severity: Literal["information", "warning"] = "information"
        else:
            reason = str(error) or type(error).__name__
            if not isinstance(error, BackendError):
                reason = f"{type(error).__name__}: {reason}"
            text = f"Live Tail for {name} stopped: {reason}. Polling again."
            severity = "warning"
        self.app.notify(text, title="Live Tail", severity=severity, markup=False)
        self._switch(backend, name, live=False)

    def _tail_finished(self, error: Exception | None) -> None:
        self._flush()
        if self._flush_timer is not None:
            self._flush_timer.pause()
        if error is None:
            self._state = "ended"
        else:
            self._state = "error"
            text = str(error) or type(error).__name__
            if not isinstance(error, BackendError):  # those carry a message meant for users
                text = f"{type(error).__name__}: {text}"
            self._error = text
            self.app.notify(
                f"Log tail for {self.function_name} stopped: {text}",
                title="Logs",
                severity="error",
                markup=False,  # log and error text is full of brackets
            )
        self._update_status()

    def _flush(self) -> None:
        """Move the inbox into the view: one redraw per flush, whatever the number of events."""
        if not self._inbox:
            return
        batch = list(self._inbox)
        dropped = self._inbox_received - len(batch)
        self._inbox.clear()
        self._inbox_received = 0
        # What dropped events said is gone, so they count as new lines only when no filter is
        # set (with one, there is no knowing whether they matched).
        self._view.add_events(batch, dropped if dropped > 0 and not self._view.filter_text else 0)

    # -- status bar --------------------------------------------------------------------------

    def _update_status(self) -> None:
        view = self._view
        name = self.function_name
        classes = ""
        if self._state == "error":
            text = f"✖ tail stopped: {self._error}"
            classes = "-stopped"
        elif not view.following:
            n = view.pending
            text = f"⏸ paused — {n:,} new line{'' if n == 1 else 's'} (End to resume)"
            classes = "-paused"
        elif self._state == "ended":
            text = f"■ tail stopped{f' ({name})' if name else ''}"
        elif self._state == "idle" and name is None and not view.lines:
            text = "no function selected"
        elif self.live and self._live_since is not None:
            seconds = time.monotonic() - self._live_since
            text = (
                f"◉ Live Tail {name} · {_rate()} · {_clock(seconds)}"
                f" · ≈{format_cost(live_tail_cost(seconds))} so far · t stops"
            )
            classes = "-live"
        else:
            text = f"● following{f' {name}' if name else ''}"
            if self._backend is not None and self._backend.capabilities.live_tail and self._state == "following":
                text += f" (polling) · t: Live Tail, {_rate()}"
        if view.filter_text:
            text += f"  ·  filter “{self._filter_input.value}”: {len(view.shown):,} of {len(view.lines):,} lines"
        if text != self._status_text:
            self._status_text = text
            self._status.update(text)
        if classes != self._status_classes:
            self._status_classes = classes
            self._status.set_classes(classes)



def _clock(seconds: float) -> str:
    """Elapsed time as m:ss, or h:mm:ss from an hour."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _rate() -> str:
    """Live Tail's price as the status bar shows it: `$0.01/min`."""
    return f"${live_tail_usd_per_minute():.2f}/min"
