"""The S3 folder trigger: real files in a temporary folder, a real LocalBackend running a handler
that appends every event it receives to a file."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
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


# -- links and special files: never followed, never opened, never an object --------------------


def keys_fired(outs, bucket: str, function: str = "record") -> list[tuple[str, str]]:
    return [(r["eventName"], r["s3"]["object"]["key"]) for r in records(outs[function], bucket)]


def fires_for_a_real_file_afterwards(outs, folder: Path, bucket: str) -> None:
    """Nothing has fired; a regular file created now fires, alone (the watcher is alive)."""
    time.sleep(0.8)  # well past settling: anything the links would fire has fired
    assert keys_fired(outs, bucket) == []
    (folder / "real.txt").write_text("real")
    wait_for(lambda: keys_fired(outs, bucket))
    time.sleep(0.5)
    assert keys_fired(outs, bucket) == [("ObjectCreated:Put", "real.txt")]


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder outside the bucket's, with a file in it."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret.txt").write_text("not the bucket's")
    return d


def test_file_links_made_while_watching_fire_nothing(env, watch, outside):
    _, outs = env
    w, folder, bucket = watch()
    (folder / "hostname").symlink_to("/etc/hostname")
    (folder / "secret.txt").symlink_to(outside / "secret.txt")
    (folder / "dangling").symlink_to(outside / "nothing-here")
    time.sleep(0.5)
    (outside / "secret.txt").write_text("changed through the back door")  # the target changes
    fires_for_a_real_file_afterwards(outs, folder, bucket)


def test_a_folder_link_made_while_watching_is_not_followed(env, watch, outside):
    _, outs = env
    w, folder, bucket = watch()
    (folder / "elsewhere").symlink_to(outside)
    time.sleep(0.5)
    (outside / "new.txt").write_text("written outside, after the link")
    (outside / "sub").mkdir()
    (outside / "sub" / "deeper.txt").write_text("x")
    fires_for_a_real_file_afterwards(outs, folder, bucket)


def test_a_link_to_the_root_fires_nothing_and_walks_nothing(env, watch):
    _, outs = env
    w, folder, bucket = watch()
    (folder / "root").symlink_to("/")
    (folder / "sub").mkdir()
    (folder / "sub" / "proc").symlink_to("/proc")  # in a folder the watcher has to start watching
    fires_for_a_real_file_afterwards(outs, folder, bucket)


def test_a_fifo_in_the_folder_is_never_opened(env, watch):
    _, outs = env
    w, folder, bucket = watch()
    os.mkfifo(folder / "pipe")  # opening it for reading would block until a writer came
    fires_for_a_real_file_afterwards(outs, folder, bucket)


def test_links_and_a_fifo_present_at_start_fire_nothing(env, watch, outside):
    _, outs = env

    def before(folder: Path) -> None:
        (folder / "hostname").symlink_to("/etc/hostname")
        (folder / "secret.txt").symlink_to(outside / "secret.txt")
        (folder / "elsewhere").symlink_to(outside)
        (folder / "root").symlink_to("/")
        os.mkfifo(folder / "pipe")

    w, folder, bucket = watch(before=before)
    (outside / "secret.txt").write_text("changed")
    (outside / "new.txt").write_text("new, outside")
    fires_for_a_real_file_afterwards(outs, folder, bucket)
    (folder / "root").unlink()  # removing a link removes no object
    (folder / "elsewhere").unlink()
    time.sleep(0.8)
    assert keys_fired(outs, bucket) == [("ObjectCreated:Put", "real.txt")]


@pytest.mark.parametrize("force_polling", [None, True])
def test_a_file_replaced_by_a_link_is_removed_from_the_bucket(env, watch, outside, force_polling):
    # Polling, the watcher sees no change (it compares what the link points to); the watcher's
    # periodic comparison of the folder with what it knows (every RESCAN_S) finds it.
    _, outs = env
    w, folder, bucket = watch(force_polling=force_polling)
    (folder / "a.txt").write_text("a")
    wait_for(lambda: keys_fired(outs, bucket))
    (folder / "a.txt").unlink()
    (folder / "a.txt").symlink_to(outside / "secret.txt")
    wait_for(lambda: len(keys_fired(outs, bucket)) == 2, timeout=15)
    time.sleep(0.5)
    assert keys_fired(outs, bucket) == [("ObjectCreated:Put", "a.txt"), ("ObjectRemoved:Delete", "a.txt")]


# -- watcher failures: reported in the function's log, and the watcher comes back ----------------


def test_a_removed_folder_is_reported_recreated_and_watched_again(env, watch):
    backend, outs = env
    w, folder, bucket = watch(function_log=lambda message: backend.logs.append("record", "s3", message))
    (folder / "a.txt").write_text("a")
    wait_for(lambda: keys_fired(outs, bucket))
    shutil.rmtree(folder)
    wait_for(lambda: folder.is_dir(), timeout=15)
    lines = wait_for(lambda: [e.message for e in backend.logs.events("record") if f"s3://{bucket}" in e.message])
    assert lines[0].startswith("[ERROR]") and str(folder) in lines[0]
    (folder / "b.txt").write_text("b")
    wait_for(lambda: ("ObjectCreated:Put", "b.txt") in keys_fired(outs, bucket), timeout=15)
    time.sleep(0.5)
    assert keys_fired(outs, bucket) == [
        ("ObjectCreated:Put", "a.txt"), ("ObjectRemoved:Delete", "a.txt"), ("ObjectCreated:Put", "b.txt"),
    ]


S3_LOGGER = """
    def handler(event, context):
        for r in event["Records"]:
            print("S3-MARKER", r["eventName"], r["s3"]["object"]["key"])
    """


def test_a_watcher_error_is_a_line_in_the_functions_log_and_the_watcher_restarts(tmp_path, monkeypatch):
    """Through `serve`'s runner: the trigger reports into the function's log (the tail pane and
    `lambdatui logs`), and comes back after a back-off."""
    import watchfiles

    from lambdatui.serve.runner import ServeRunner

    real_watch = watchfiles.watch
    calls = []

    def failing_thrice(*paths, **options):
        calls.append(paths)
        if len(calls) <= 3:
            raise OSError(28, "inotify watch limit reached")  # as the kernel would say
        return real_watch(*paths, **options)

    monkeypatch.setattr(watchfiles, "watch", failing_thrice)
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text(textwrap.dedent(S3_LOGGER))
    path = tmp_path / "lambdatui.yaml"
    path.write_text(
        f"local:\n  functions:\n    files:\n      {{runtime: {PY}, handler: app.handler, code: code, "
        "triggers: [{type: s3, bucket: uploads, path: bucket}]}\n"
    )
    runner = ServeRunner(parse_config(path.read_text(), path), port=0, http_port=0, state_dir=tmp_path / "state")
    runner.start()
    try:
        assert runner.backend is not None
        logs = runner.backend.logs

        def lines(text: str) -> list[str]:
            return [e.message for e in logs.events("files") if text in e.message]

        errors = wait_for(lambda: len(lines("inotify watch limit reached")) == 3 and lines("inotify watch limit reached"))
        for error in errors:
            assert error.startswith("[ERROR]") and "s3://uploads" in error
        # Backing off: each wait twice the one before.
        assert [re.search(r"retrying in ([\d.]+) s", e).group(1) for e in errors] == ["0.5", "1", "2"]
        wait_for(lambda: lines("again") and len(calls) >= 4)
        (tmp_path / "bucket" / "after.txt").write_text("x")
        wait_for(lambda: lines("S3-MARKER ObjectCreated:Put after.txt"), timeout=15)
        # Persisted too, for `lambdatui logs` in another process.
        persisted = (tmp_path / "state" / "logs" / "files.jsonl").read_text()
        assert "inotify watch limit reached" in persisted
    finally:
        runner.stop()


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
