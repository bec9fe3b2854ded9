"""A trigger type added from outside: one Trigger class and one `register` call, nothing else edited.

The toy type is parsed from a configuration file (with located errors), started by `serve`'s
runner, which invokes through the host it is given, and described in the configuration pane
and on serve's console.
"""

from __future__ import annotations

import json
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from typing import ClassVar

import pytest
from polling import wait_for

from lambdatui.config import ConfigError, parse_config
from lambdatui.serve.runner import ServeRunner
from lambdatui.triggers import Trigger, TriggerWhere, describe_all
from lambdatui.triggers.registry import TRIGGER_TYPES, register

PY = f"python{sys.version_info[0]}.{sys.version_info[1]}"


class _Pinger:
    """Invokes the function `times` times from a thread, as a real runner would."""

    last: _Pinger | None = None  # the one started last, for the test to look into

    def __init__(self, host, function: str, message: str, times: int) -> None:
        _Pinger.last = self
        self.fired = 0
        self.results = []
        self._thread = threading.Thread(target=self._run, args=(host, function, message, times), daemon=True)
        self._thread.start()

    def _run(self, host, function, message, times) -> None:
        for _ in range(times):
            self.results.append(host.invoke(function, json.dumps({"say": message}).encode(), source="toy"))
            self.fired += 1

    def stop(self) -> None:
        self._thread.join(30)

    def status(self) -> str:
        return f"fired {self.fired}"


@dataclass(frozen=True)
class ToyTrigger(Trigger):
    type: ClassVar[str] = "toy"
    keys: ClassVar[tuple[str, ...]] = ("type", "message", "times")

    message: str
    times: int = 1

    @classmethod
    def parse(cls, reader, mapping, node, key, base_dir):
        if "message" not in mapping:
            reader.fail(node, f"{key}.message", "is required")
        times = int(reader.number(mapping["times"], f"{key}.times", 1, 10)) if "times" in mapping else 1
        return cls(message=reader.string(mapping["message"], f"{key}.message"), times=times)

    def describe(self, where: TriggerWhere) -> str:
        return f"Toy says {self.message!r} {self.times}×"

    def start(self, function, host):
        return _Pinger(host, function, self.message, self.times)


@pytest.fixture
def toy():
    register(ToyTrigger)
    yield ToyTrigger
    del TRIGGER_TYPES[ToyTrigger.type]


def write(tmp_path, triggers: str) -> str:
    (tmp_path / "code").mkdir(exist_ok=True)
    (tmp_path / "code" / "app.py").write_text("def handler(event, context):\n    return {'heard': event['say']}\n")
    return textwrap.dedent(f"""\
        local:
          functions:
            talker:
              runtime: {PY}
              handler: app.handler
              code: code
              triggers:
        """) + textwrap.indent(textwrap.dedent(triggers), " " * 8)


def test_the_toy_type_is_listed_among_the_types(toy, tmp_path):
    with pytest.raises(ConfigError) as info:
        parse_config(write(tmp_path, "- {type: nope}\n"), tmp_path / "lambdatui.yaml")
    assert str(info.value).endswith(
        "lambdatui.yaml:8: local.functions.talker.triggers[0].type: 'nope' is not one of: http, schedule, s3, sqs, dynamodb, toy"
    )


def test_a_bad_key_of_the_toy_type_is_located(toy, tmp_path):
    text = write(tmp_path, """\
        - type: toy
          message: hi
        - type: toy
          mesage: hi
        """)
    with pytest.raises(ConfigError) as info:
        parse_config(text, tmp_path / "lambdatui.yaml")
    e = info.value
    assert (e.line, e.key) == (11, "local.functions.talker.triggers[1].mesage")
    assert e.message == "unknown key; did you mean 'message'?"


def test_the_toy_types_own_checks_are_located(toy, tmp_path):
    text = write(tmp_path, """\
        - type: toy
          message: hi
          times: 0
        """)
    with pytest.raises(ConfigError) as info:
        parse_config(text, tmp_path / "lambdatui.yaml")
    assert (info.value.line, info.value.key, info.value.message) == (10, "local.functions.talker.triggers[0].times", "0 is outside 1–10")


def test_the_runner_starts_and_describes_the_toy_type(toy, tmp_path):
    config = parse_config(write(tmp_path, "- {type: toy, message: hi, times: 2}\n"), tmp_path / "lambdatui.yaml")
    (trigger,) = config.local.functions["talker"].triggers
    assert trigger == ToyTrigger(message="hi", times=2)
    assert trigger.to_dict() == {"type": "toy", "message": "hi", "times": 2}
    assert describe_all([trigger], TriggerWhere()) == ["Toy says 'hi' 2×"]

    started = time.time()
    runner = ServeRunner(config, port=0, http_port=0, state_dir=tmp_path / "state")
    runner.start()
    try:
        wait_for(lambda: "toy          Toy says 'hi' 2× → talker (fired 2)" in runner.describe(), timeout=60)
        assert [json.loads(r.payload) for r in _Pinger.last.results] == [{"heard": "hi"}] * 2
        history = runner.backend.history
        history.flush()
        assert [row.source for row in history.query("talker", started)] == ["toy", "toy"]
        # The dashboard's backend hands the pane the same objects.
        assert describe_all(runner.backend.get_function("talker").triggers) == ["Toy says 'hi' 2×"]
    finally:
        runner.stop()
