"""The S3 folder trigger: real files in a temporary folder, a real LocalBackend running a handler
that appends every event it receives to a file."""

from __future__ import annotations

import hashlib
import json
import re
import sys
import textwrap
import time
from pathlib import Path

import pytest
from polling import wait_for

from lambdatui.backends import make_backend
from lambdatui.config import parse_config
from lambdatui.triggers.s3_watch import S3Watcher, encode_key, event_matches, is_ignored, normalize_events, s3_event

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"
TEMPLATES = Path(__file__).resolve().parents[2] / "lambdatui" / "data" / "events"

RECORDER = """
    import json, os
    def handler(event, context):
        with open(os.environ["OUT"], "a") as f:
            f.write(json.dumps(event) + "\\n")
        if os.environ.get("FAIL"):
            raise RuntimeError("failing on purpose")
        return {"ok": True}
    """


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A backend with `record` (appends each event to a file) and `broken` (appends, then raises)."""
    root = tmp_path_factory.mktemp("s3")
    lines = ["backend: local", "local:", "  keep_warm_seconds: 600", "  functions:"]
    outs = {}
    for name, fail in (("record", False), ("broken", True)):
        code = root / name
        code.mkdir()
        (code / "app.py").write_text(textwrap.dedent(RECORDER))
        outs[name] = root / f"{name}.jsonl"
        env_line = f"OUT: '{outs[name]}'" + (", FAIL: '1'" if fail else "")
        lines += [
            f"    {name}:",
            f"      runtime: {PY}",
            "      handler: app.handler",
            f"      code: {name}",
            "      timeout: 10",
            f"      environment: {{{env_line}}}",
        ]
    path = root / "lambdatui.yaml"
    path.write_text("\n".join(lines) + "\n")
    backend = make_backend(parse_config(path.read_text(), path), state_dir=root / "state", watch_code=False)
    yield backend, outs
    backend.close()


def records(out: Path, bucket: str) -> list[dict]:
    if not out.exists():
        return []
    found = []
    for line in out.read_text().splitlines():
        event = json.loads(line)
        assert len(event["Records"]) == 1  # one record per notification, as S3 sends
        r = event["Records"][0]
        if r["s3"]["bucket"]["name"] == bucket:
            found.append(r)
    return found




@pytest.fixture
def watch(env, tmp_path, request):
    """Start a watcher over a fresh folder; stopped when the test ends."""
    backend, outs = env
    started = []

    def make(function: str = "record", settle_seconds: float = 0.2, before=None, **options) -> tuple[S3Watcher, Path, str]:
        folder = tmp_path / f"bucket{len(started)}"
        folder.mkdir()
        if before:
            before(folder)
        bucket = f"{request.node.name.replace('_', '-')[:40]}-{len(started)}".lower()
        w = S3Watcher(backend, function, bucket=bucket, folder=folder, settle_seconds=settle_seconds, **options)
        w.start()
        started.append(w)
        return w, folder, bucket

    yield make
    for w in started:
        w.stop()


def test_created_file_fires_one_put_with_s3s_shape(env, watch):
    _, outs = env
    w, folder, bucket = watch()
    content = b"quarterly numbers\n" * 10
    (folder / "my report.txt").write_bytes(content)
    got = wait_for(lambda: records(outs["record"], bucket))
    assert len(got) == 1
    r = got[0]
    template = json.loads((TEMPLATES / "s3-put.json").read_text())["Records"][0]
    assert list(r) == list(template)
    assert r["eventName"] == "ObjectCreated:Put"
    assert r["eventSource"] == "aws:s3" and r["eventVersion"] == "2.1" and r["awsRegion"] == "us-east-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["eventTime"])
    for section in ("userIdentity", "requestParameters", "responseElements"):
        assert set(r[section]) == set(template[section])
    assert set(r["s3"]) == set(template["s3"])
    assert r["s3"]["bucket"] == {"name": bucket, "ownerIdentity": r["s3"]["bucket"]["ownerIdentity"], "arn": f"arn:aws:s3:::{bucket}"}
    obj = r["s3"]["object"]
    assert obj["key"] == "my+report.txt"
    assert obj["size"] == len(content)
    assert obj["eTag"] == hashlib.md5(content).hexdigest()
    assert re.fullmatch(r"[0-9A-F]+", obj["sequencer"])
    time.sleep(0.4)
    assert len(records(outs["record"], bucket)) == 1  # and only once
    assert w.fired == 1 and w.errors == 0


def test_file_written_slowly_fires_once_when_complete(env, watch):
    _, outs = env
    # Writes 0.2 s apart, settling at 1 s: a loaded machine may stretch a gap, not to 1 s.
    w, folder, bucket = watch(settle_seconds=1.0)
    with open(folder / "big.bin", "wb") as f:
        for _ in range(5):
            f.write(b"x" * 4096)
            f.flush()
            time.sleep(0.2)
    got = wait_for(lambda: records(outs["record"], bucket))
    time.sleep(0.5)
    got = records(outs["record"], bucket)
    assert [r["s3"]["object"]["size"] for r in got] == [5 * 4096]
    assert got[0]["s3"]["object"]["eTag"] == hashlib.md5(b"x" * 5 * 4096).hexdigest()


def test_nested_file_key_and_later_change(env, watch):
    _, outs = env
    w, folder, bucket = watch()
    (folder / "in" / "2024").mkdir(parents=True)
    (folder / "in" / "2024" / "a.csv").write_text("1")
    wait_for(lambda: records(outs["record"], bucket))
    (folder / "in" / "2024" / "a.csv").write_text("1,2")
    got = wait_for(lambda: len(records(outs["record"], bucket)) == 2 and records(outs["record"], bucket))
    assert [(r["eventName"], r["s3"]["object"]["key"], r["s3"]["object"]["size"]) for r in got] == [
        ("ObjectCreated:Put", "in/2024/a.csv", 1),
        ("ObjectCreated:Put", "in/2024/a.csv", 3),
    ]
    first, second = (r["s3"]["object"]["sequencer"] for r in got)
    assert len(first) == len(second) and second > first


def test_removed_file_fires_delete(env, watch):
    _, outs = env
    w, folder, bucket = watch(before=lambda f: (f / "old.txt").write_text("already here"))
    time.sleep(0.3)
    assert records(outs["record"], bucket) == []  # files present at start are existing objects
    (folder / "old.txt").unlink()
    got = wait_for(lambda: records(outs["record"], bucket))
    assert len(got) == 1
    r = got[0]
    template = json.loads((TEMPLATES / "s3-delete.json").read_text())["Records"][0]
    assert list(r) == list(template)
    assert r["eventName"] == "ObjectRemoved:Delete"
    assert set(r["s3"]["object"]) == {"key", "sequencer"}
    assert r["s3"]["object"]["key"] == "old.txt"


def test_prefix_and_suffix_filter_on_the_key(env, watch):
    _, outs = env
    w, folder, bucket = watch(prefix="uploads/", suffix=".jpg")
    (folder / "uploads").mkdir()
    (folder / "other").mkdir()
    (folder / "uploads" / "a.jpg").write_bytes(b"jpg")
    (folder / "uploads" / "b.txt").write_bytes(b"txt")
    (folder / "other" / "c.jpg").write_bytes(b"jpg")
    (folder / "d.jpg").write_bytes(b"jpg")
    wait_for(lambda: records(outs["record"], bucket))
    time.sleep(0.4)
    assert [r["s3"]["object"]["key"] for r in records(outs["record"], bucket)] == ["uploads/a.jpg"]


def test_events_filter_only_removals(env, watch):
    _, outs = env
    w, folder, bucket = watch(events=["s3:ObjectRemoved:*"])
    (folder / "x.txt").write_text("x")
    time.sleep(0.5)
    assert records(outs["record"], bucket) == []
    (folder / "x.txt").unlink()
    got = wait_for(lambda: records(outs["record"], bucket))
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in got] == [("ObjectRemoved:Delete", "x.txt")]


def test_hidden_temp_and_short_lived_files_fire_nothing(env, watch):
    _, outs = env
    w, folder, bucket = watch()
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / ".report.txt.swp").write_bytes(b"swap")
    (folder / "report.txt~").write_bytes(b"backup")
    (folder / "gone-soon").write_bytes(b"tmp")
    (folder / "gone-soon").unlink()
    (folder / "real.txt").write_bytes(b"real")
    wait_for(lambda: records(outs["record"], bucket))
    time.sleep(0.4)
    assert [r["s3"]["object"]["key"] for r in records(outs["record"], bucket)] == ["real.txt"]


def test_function_errors_are_logged_and_the_watcher_goes_on(env, watch, caplog):
    _, outs = env
    w, folder, bucket = watch(function="broken")
    with caplog.at_level("WARNING", logger="lambdatui.serve"):
        (folder / "one.txt").write_text("1")
        wait_for(lambda: w.fired == 1)
        (folder / "two.txt").write_text("2")
        wait_for(lambda: w.fired == 2)
    assert w.fired == 2 and w.errors == 2
    assert [r["s3"]["object"]["key"] for r in records(outs["broken"], bucket)] == ["one.txt", "two.txt"]
    assert "RuntimeError" in caplog.text or "failing on purpose" in caplog.text


def test_missing_function_is_logged_not_raised(env, watch, caplog):
    w, folder, bucket = watch(function="no-such-function")
    with caplog.at_level("ERROR", logger="lambdatui.serve"):
        (folder / "a.txt").write_text("a")
        assert wait_for(lambda: w.fired == 1)
    assert w.errors == 1
    assert "no-such-function" in caplog.text


def test_s3_event_builder():
    event = s3_event("photos", "a/b c+d(1).jpg", "ObjectCreated:Put", size=3, etag="abc", region="eu-west-1")
    r = event["Records"][0]
    assert r["s3"]["object"]["key"] == "a/b+c%2Bd%281%29.jpg"
    assert r["awsRegion"] == "eu-west-1"
    assert r["s3"]["bucket"]["arn"] == "arn:aws:s3:::photos"
    deleted = s3_event("photos", "k", "s3:ObjectRemoved:Delete")["Records"][0]
    assert deleted["eventName"] == "ObjectRemoved:Delete"
    assert "size" not in deleted["s3"]["object"] and "eTag" not in deleted["s3"]["object"]
    seqs = [s3_event("b", "k")["Records"][0]["s3"]["object"]["sequencer"] for _ in range(50)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 50
    assert encode_key("uploads/2024/03/quarterly report.pdf") == "uploads/2024/03/quarterly+report.pdf"


def test_event_patterns_and_ignored_names():
    assert normalize_events(None) == ("s3:ObjectCreated:*", "s3:ObjectRemoved:*")
    assert normalize_events(["ObjectCreated:Put"]) == ("s3:ObjectCreated:Put",)
    with pytest.raises(ValueError):
        normalize_events(["s3:ObjectTagging:*"])
    assert event_matches("ObjectCreated:Put", ["s3:ObjectCreated:*"])
    assert event_matches("ObjectCreated:Put", ["s3:ObjectCreated:Put"])
    assert not event_matches("ObjectCreated:Put", ["s3:ObjectCreated:Post", "s3:ObjectRemoved:*"])
    assert is_ignored(".DS_Store") and is_ignored("a/.git/config") and is_ignored("x.swp") and is_ignored("x~")
    assert is_ignored("~$report.docx") and not is_ignored("report.docx") and not is_ignored("dir/file.txt")
