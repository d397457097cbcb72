"""The processes the soak starts: ``edgesim serve`` (the real CLI) and the origin script.

Both write their console to a file (so a long run never blocks on a full pipe) that the test
reads for the banner, for tracebacks and for the tail it shows when something fails.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

BANNER = re.compile(r"viewers: http://127\.0\.0\.1:(\d+).*admin .*: http://127\.0\.0\.1:(\d+)")
# What Python prints for an exception nobody handled; none of it may appear in serve's output.
TRACEBACK_MARKERS = (
    "Traceback (most recent call last)",
    "Exception ignored in",
    "Task exception was never retrieved",
    "Error handling request",
)


class Process:
    """A child process whose stdout and stderr go to one log file."""

    def __init__(self, argv: list[str], log: Path, cwd: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("EDGESIM_ENDPOINT", None)
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
            # Ctrl-C as from a terminal: a test run started in the background inherits SIGINT
            # ignored (and possibly blocked), and serve would never see it.
            preexec_fn=_terminal_signals,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def wait_for(self, pattern: re.Pattern[str], timeout_s: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = pattern.search(self.text())
            if found:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(
            f"{self.proc.args!r} did not print {pattern.pattern!r} within {timeout_s} s "
            f"(exit status {self.proc.poll()}); its output:\n{self.tail()}"
        )

    def rss_kib(self) -> int:
        """VmRSS from /proc/<pid>/status, in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError(f"no VmRSS in /proc/{self.pid}/status")

    def interrupt(self, timeout_s: float = 20.0) -> int | None:
        """SIGINT (Ctrl-C), then wait; returns the exit status, or None if it did not exit (it is
        then killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None
        finally:
            self._out.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._out.close()


def start_origin(workdir: Path) -> tuple[Process, str]:
    script = Path(__file__).with_name("origin.py")
    origin = Process([sys.executable, str(script)], workdir / "origin.log", workdir)
    port = origin.wait_for(re.compile(r"port (\d+)"), 30).group(1)
    return origin, f"http://127.0.0.1:{port}"


def start_serve(workdir: Path, config: Path) -> tuple[Process, int, int]:
    """``edgesim serve --config …`` as a user runs it; returns it with its viewer and admin
    ports (the config asks for free ports; the banner says which)."""
    argv = [sys.executable, "-m", "edgesim", "serve", "--config", str(config)]
    serve = Process(argv, workdir / "serve.log", workdir)
    found = serve.wait_for(BANNER, 60)
    return serve, int(found.group(1)), int(found.group(2))


def tracebacks(text: str, context: int = 12) -> list[str]:
    """Each place in ``text`` where a traceback marker appears, with the lines that follow."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if any(marker in line for marker in TRACEBACK_MARKERS):
            found.append("\n".join(lines[max(0, i - 2) : i + context]))
    return found


def _terminal_signals() -> None:
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    signal.signal(signal.SIGINT, signal.SIG_DFL)
