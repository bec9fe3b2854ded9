"""A function's output as log events (executor.output): lines, framed messages, 256 KB events, the tail."""

from __future__ import annotations

import re
import time

import pytest

from lambdatui.executor.output import LOG_TAIL_BYTES, MAX_EVENT_BYTES, OutputReader, TailBuffer, split_event


def frame(message: str, kind: int = 0xA55A0003, stamp_us: int | None = None) -> bytes:
    """A message framed as AWS's runtimes write it to _LAMBDA_TELEMETRY_LOG_FD."""
    data = message.encode()
    stamp = time.time_ns() // 1000 if stamp_us is None else stamp_us
    return kind.to_bytes(4, "big") + len(data).to_bytes(4, "big") + stamp.to_bytes(8, "big") + data


def read(*chunks: bytes, frames: bool = True, limit: int = MAX_EVENT_BYTES) -> list[str]:
    events: list[str] = []
    reader = OutputReader(events.append, frames=frames, limit=limit)
    for chunk in chunks:
        reader.feed(chunk)
    reader.flush()
    return events


def test_each_line_is_an_event_and_a_line_may_come_in_pieces():
    assert read(b"one\ntw", b"o\n", b"thr", b"ee") == ["one", "two", "three"]
    assert read(b"\n\n") == ["", ""]


def test_a_framed_message_is_one_event_with_its_newlines_and_keeps_its_place_among_lines():
    data = b"before\n" + frame("[ERROR] KeyError: 'x'\nTraceback (most recent call last):\n") + b"after\n"
    assert read(data) == ["before", "[ERROR] KeyError: 'x'\nTraceback (most recent call last):", "after"]


def test_a_frame_split_at_any_byte_is_read_whole():
    data = b"a\n" + frame("multi\nline") + b"b\n" + frame("[INFO]\tx\n", kind=0xA55A000F)
    expected = ["a", "multi\nline", "b", "[INFO]\tx"]
    for cut in range(1, len(data)):
        assert read(data[:cut], data[cut:]) == expected, cut
    assert read(*(data[i:i + 1] for i in range(len(data)))) == expected


def test_a_frame_in_the_middle_of_a_line_does_not_break_the_line():
    # The message is logged when it is complete; the line goes on (AWS reads frames and stdout apart).
    assert read(b"abc", frame("msg"), b"def\n") == ["msg", "abcdef"]


@pytest.mark.parametrize(
    "data",
    [
        b"\xa5\x5a\x00\x03" + b"\x00" * 4 + (1).to_bytes(8, "big") + b"tail\n",  # a timestamp from 1970
        b"\xa5\x5a\x00\x7f" + b"\x00" * 12 + b"tail\n",  # not a frame type
        "¥Z\x00\x03 and more text\n".encode(),  # text that contains the type's bytes (C2 A5 5A 00 03)
    ],
)
def test_bytes_that_only_look_like_a_frame_are_text(data):
    assert read(data) == [data.rstrip(b"\n").decode("utf-8", "replace")]


def test_without_frames_the_type_bytes_are_text():
    # A fixed timestamp: the current one holds a newline byte (0x0a) now and then, which splits the
    # line as it should, and made this test fail at random (CI, 2026-12-03).
    data = frame("x", stamp_us=1_764_790_000_123_456)
    assert b"\n" not in data
    assert read(data + b"\n", frames=False) == [data.decode("utf-8", "replace")]


def test_a_line_longer_than_256_kb_is_split_into_events_of_at_most_256_kb():
    # CloudWatch Logs' event limit (256 KB), which Lambda applies to what a function writes.
    line = "€" * 100_000 + "x" * 300_000  # 600,000 bytes, three-byte characters first
    events = read(line.encode() + b"\n")
    assert "".join(events) == line
    # 262,144 falls inside a character: the first event ends before it.
    assert [len(e.encode()) for e in events] == [MAX_EVENT_BYTES - 1, MAX_EVENT_BYTES, 600_000 - 2 * MAX_EVENT_BYTES + 1]
    assert all(len(e.encode()) <= MAX_EVENT_BYTES for e in events)


def test_output_without_newlines_becomes_256_kb_events_as_it_comes():
    events: list[str] = []
    reader = OutputReader(events.append)
    chunk = b"y" * 4096
    for _ in range(1000):  # 4,096,000 bytes, never a newline
        reader.feed(chunk)
    # Fifteen full events already, without waiting for a newline or the end.
    assert len(events) == 4_096_000 // MAX_EVENT_BYTES and all(len(e) == MAX_EVENT_BYTES for e in events)
    reader.flush()
    assert sum(map(len, events)) == 4_096_000 and len(events[-1]) == 4_096_000 % MAX_EVENT_BYTES


def test_a_long_framed_message_is_split_too():
    message = "m" * (MAX_EVENT_BYTES + 10)
    data = frame(message)
    assert read(data[:1000], data[1000:]) == ["m" * MAX_EVENT_BYTES, "m" * 10]


def test_split_event_keeps_characters_whole():
    data = ("€" * 10).encode()  # 3 bytes each
    pieces = split_event(data, 8)
    assert b"".join(pieces) == data and [len(p) for p in pieces] == [6, 6, 6, 6, 6]
    assert all(p.decode() for p in pieces)


def test_tail_buffer_is_the_last_4_kb_and_holds_only_what_it_needs():
    tail = TailBuffer()
    lines = [f"line {i} " + "x" * (i % 90) for i in range(100_000)]
    for line in lines:
        tail.append(line)
        assert len(tail._lines) <= 200  # bounded: a few kilobytes, not the invocation's log
    whole = ("\n".join(lines) + "\n").encode()
    assert tail.text() == whole[-LOG_TAIL_BYTES:].decode()


def test_tail_buffer_of_a_few_lines_is_all_of_them():
    tail = TailBuffer()
    for line in ("START", "é", "END"):
        tail.append(line)
    assert tail.text() == "START\né\nEND\n"


def test_tail_buffer_drops_a_character_cut_by_the_limit():
    tail = TailBuffer(limit=10)
    tail.append("ééééé")  # 10 bytes + newline: the cut falls inside the first character
    assert tail.text() == "éééé\n"


# -- through the executor ----------------------------------------------------------------------------


def test_a_handler_printing_without_newlines_is_logged_in_256_kb_events(make_function, executor_factory):
    spec = make_function(
        """
        import sys
        def handler(event, context):
            for _ in range(1024):
                sys.stdout.write("z" * 1024)  # 1 MB, no newline
            return "done"
        """
    )
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    assert result.payload == b'"done"'
    events = [e.message for e in ex.logs.events(spec.name)]
    start = events.index(f"START RequestId: {result.request_id} Version: $LATEST")
    end = events.index(f"END RequestId: {result.request_id}")
    assert events[start + 1:end] == ["z" * MAX_EVENT_BYTES] * 4
    # The tail is the last 4 KB: the end of the output, END and REPORT.
    assert len(result.log_tail.encode()) == LOG_TAIL_BYTES
    assert re.match(r"z+\nEND RequestId: ", result.log_tail)


def test_output_without_a_newline_at_the_end_of_an_invocation_is_logged_before_end(make_function, executor_factory):
    spec = make_function("import sys\ndef handler(e, c):\n    sys.stdout.write('no newline')\n")
    result = executor_factory(spec).invoke(spec.name)
    lines = result.log_tail.split("\n")
    assert lines[1:3] == ["no newline", f"END RequestId: {result.request_id}"]


def test_a_logging_record_with_a_traceback_is_one_event(make_function, executor_factory):
    spec = make_function(
        """
        import logging
        def handler(event, context):
            try:
                {}["k"]
            except KeyError:
                logging.exception("failed")
        """
    )
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    [event] = [e.message for e in ex.logs.events(spec.name) if e.message.startswith("[ERROR]")]
    assert re.match(rf"\[ERROR\]\t\S+Z\t{result.request_id}\tfailed\nTraceback \(most recent call last\):\n", event)
    assert event.endswith("KeyError: 'k'")


def test_the_tail_of_a_chatty_invocation_is_its_last_4_kb(make_function, executor_factory):
    spec = make_function("def handler(e, c):\n    for i in range(15000):\n        print('chatty line', i)\n")
    ex = executor_factory(spec)
    result = ex.invoke(spec.name)
    events = [e.message for e in ex.logs.events(spec.name)]
    since_start = events[events.index(f"START RequestId: {result.request_id} Version: $LATEST"):]
    assert len(since_start) == 15003
    assert result.log_tail == ("\n".join(since_start) + "\n").encode()[-LOG_TAIL_BYTES:].decode()


def test_a_frame_still_arriving_when_an_invocation_ends_is_not_cut():
    # End of an invocation: a pending line is logged; a frame a background thread is still writing is not.
    events: list[str] = []
    reader = OutputReader(events.append, frames=True)
    data = frame("from a background thread\nsecond line")
    reader.feed(b"no newline" + data[:20])
    reader.flush(final=False)
    assert events == ["no newline"]
    reader.feed(data[20:])
    assert events == ["no newline", "from a background thread\nsecond line"]
