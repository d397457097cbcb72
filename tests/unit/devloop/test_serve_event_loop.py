"""``edgesim serve --loop``: uvloop when installed (auto), Python's loop on request, a clear
error when uvloop is asked for and missing; and serve answering requests on uvloop."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
import weakref
from pathlib import Path

import pytest

from edgesim.errors import InputError
from edgesim.serve_cli import event_loop


def test_asyncio_is_pythons_own_loop() -> None:
    assert event_loop("asyncio") == ("asyncio", None)


def test_auto_takes_uvloop_when_it_is_installed() -> None:
    uvloop = pytest.importorskip("uvloop")
    assert event_loop("auto") == ("uvloop", uvloop.new_event_loop)
    assert event_loop("uvloop") == ("uvloop", uvloop.new_event_loop)


def test_without_uvloop_auto_falls_back_and_uvloop_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    assert event_loop("auto") == ("asyncio", None)
    with pytest.raises(InputError, match=r"--loop uvloop: uvloop is not installed \(pip install"):
        event_loop("uvloop")


CONFIG = """
[server]
port = 0
admin_port = 0
https = false
ephemeral = true

[[origins]]
id = "app"
url = "http://127.0.0.1:9"

[[functions]]
name = "hello"
file = "hello.js"

[default_behavior]
origin = "app"
viewer_request = "hello"
"""
FUNCTION = """
function handler(event) {
  return { statusCode: 200, statusDescription: 'OK', body: 'hello ' + event.request.uri };
}
"""


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_serve_answers_on_the_loop_it_names_and_stops_on_sigterm(tmp_path: Path, loop: str) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    (tmp_path / "edgesim.toml").write_text(CONFIG)
    (tmp_path / "hello.js").write_text(FUNCTION)
    argv = [sys.executable, "-m", "edgesim", "serve", "--no-reload", "--loop", loop]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        serve = subprocess.Popen(argv, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        text = ""
        deadline = time.monotonic() + 60
        while f"event loop: {loop}" not in text:
            assert serve.poll() is None, log.read_text()
            assert time.monotonic() < deadline, text
            time.sleep(0.1)
            text = log.read_text()
        port = re.search(r"viewers: http://127\.0\.0\.1:(\d+)", text)
        assert port is not None, text
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy env
        with direct.open(f"http://127.0.0.1:{port.group(1)}/x", timeout=10) as answer:
            assert answer.read() == b"hello /x"
            assert answer.headers["X-Cache"] == "FunctionGeneratedResponse from cloudfront"
        # SIGTERM (docker stop, kill) stops serve cleanly, as Ctrl-C does.
        serve.terminate()
        assert serve.wait(20) == 0, log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait(10)


class _Node:
    me: object = None


def test_settle_heap_moves_the_start_up_heap_out_of_the_collectors_view() -> None:
    import gc

    from edgesim.serve_cli import settle_heap

    gc.unfreeze()
    thresholds = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_threshold()[0] == 10_000  # young collections less often under load
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # modules, classes, functions: everything loaded so far
        # A reference cycle made afterwards is still collected.
        cycle = _Node()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert gone() is None
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()  # the rest of the test run collects as usual
        gc.set_threshold(*thresholds)
