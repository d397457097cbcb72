"""Running a build command: in its directory, through the shell, with a timeout.

The command is whatever the user wrote (``npm run build:edge``, ``make edge``…), so it runs
through the shell as it would in a terminal. Its output (standard output and error, interleaved)
is kept for the console and ``/status``; on a timeout the whole process group is stopped, so an
``npm`` that started ``esbuild`` leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# What is kept of a build's output: its end, where compilers put the summary and the errors.
OUTPUT_LIMIT = 16_000


@dataclass(frozen=True)
class BuildOutcome:
    """What one run of a build command did. ``ok``: it exited 0 within its time."""

    command: str
    cwd: Path
    returncode: int | None  # None: stopped at the timeout, or could not start
    output: str
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        """One line saying what happened, then the build's own output."""
        if self.timed_out:
            head = f"build `{self.command}` stopped after {self.seconds:.0f} s (build_timeout_s)"
        elif self.returncode is None:
            head = f"build `{self.command}` could not start"
        elif self.ok:
            head = f"build `{self.command}` succeeded in {self.seconds:.2f} s"
        else:
            head = f"build `{self.command}` failed (exit status {self.returncode})"
        output = self.output.rstrip()
        return head + (f" in {self.cwd}:\n{output}" if output and not self.ok else "")


def _tail(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    if len(text) > OUTPUT_LIMIT:
        text = "[…]\n" + text[-OUTPUT_LIMIT:]
    return text


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def run_build(command: str, cwd: Path, timeout_s: float) -> BuildOutcome:
    """Run ``command`` in ``cwd`` and wait for it (at most ``timeout_s``)."""
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            command,
            shell=True,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped whole at the timeout
        )
    except OSError as exc:
        return BuildOutcome(command, cwd, None, str(exc), 0.0)
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        output, _ = process.communicate()
        return BuildOutcome(
            command, cwd, None, _tail(output), time.monotonic() - started, timed_out=True
        )
    return BuildOutcome(command, cwd, process.returncode, _tail(output), time.monotonic() - started)


async def run_build_async(command: str, cwd: Path, timeout_s: float) -> BuildOutcome:
    """:func:`run_build` without holding the event loop (``serve`` keeps answering meanwhile)."""
    started = time.monotonic()
    try:
        process = await asyncio.create_subprocess_shell(
            command,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        return BuildOutcome(command, cwd, None, str(exc), 0.0)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    except (TimeoutError, asyncio.CancelledError) as exc:
        _kill_group(process.pid)
        await process.wait()
        if isinstance(exc, asyncio.CancelledError):
            raise
        return BuildOutcome(command, cwd, None, "", time.monotonic() - started, timed_out=True)
    return BuildOutcome(command, cwd, process.returncode, _tail(output), time.monotonic() - started)
