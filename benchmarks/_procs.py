"""Processes for the serve benchmark: start a server in its own session, learn its URL from the
first line that names one, read the CPU time of its process tree from /proc, stop the group.

Linux only: CPU time comes from /proc/<pid>/stat (utime+stime, plus cutime+cstime so that a
child that exited and was reaped still counts) of the process and every descendant.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


class Server:
    """A server process started in a new session (its own process group), output to ``log``."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ):
        self.name = name
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            list(argv),
            stdout=self._out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            start_new_session=True,
            # A parent may block or ignore signals (job runners, background jobs of a script):
            # the server must get the SIGINT that stops it cleanly.
            preexec_fn=_reset_signals,
        )

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        """The first match of ``pattern`` in the output; fails with the output if the process
        ends or the time runs out first."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            text = self.log.read_text(errors="replace")
            found = regex.search(text)
            if found:
                return found
            if self.proc.poll() is not None or time.monotonic() > deadline:
                why = "exited" if self.proc.poll() is not None else f"not ready in {timeout:g} s"
                raise RuntimeError(f"{self.name} {why}; its output:\n{text[-4000:]}")
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the process and all its descendants so far."""
        return tree_cpu_seconds(self.proc.pid)

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) among the tree's processes, in MB."""
        return max(_status_kb(pid, "VmHWM:") for pid in descendants(self.proc.pid)) / 1024

    def rss_mb(self) -> float:
        """The resident set (VmRSS) of the tree's processes together, in MB."""
        return sum(_status_kb(pid, "VmRSS:") for pid in descendants(self.proc.pid)) / 1024

    def stop(self) -> None:
        """SIGINT to the group (serve and aiohttp shut down cleanly on it), then SIGKILL."""
        for sig, grace in ((signal.SIGINT, 5.0), (signal.SIGKILL, 5.0)):
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(grace)
        # Anything the leader left behind in its group (a runtime's helper process).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._out.close()


def _reset_signals() -> None:
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from /proc/<pid>/task/<tid>/children."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                with contextlib.suppress(OSError):
                    children = Path(f"/proc/{current}/task/{task}/children").read_text()
                    todo.extend(int(child) for child in children.split())
    return found


def _status_kb(pid: int, field: str) -> int:
    """A kB field of /proc/<pid>/status (0 when the process is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def tree_cpu_seconds(pid: int) -> float:
    ticks = 0
    for member in descendants(pid):
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{member}/stat").read_text()
            # The command name (field 2) may hold spaces: split after its closing parenthesis.
            fields = stat[stat.rindex(")") + 2 :].split()
            # Fields 14-17 of proc(5): utime, stime, cutime, cstime (field 3 is fields[0]).
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / TICK


def machine() -> str:
    """One line about the machine: CPU model, cores, load average."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, load average {load_average()}"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"
