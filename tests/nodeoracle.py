"""A long-lived Node.js process that evaluates JS expressions, for differential tests.

Starting Node costs tens of milliseconds, so one process serves a whole test session.
Results cross as JSON: make expressions return JSON-friendly values (e.g. ``buf.toString('hex')``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

_SCRIPT = Path(__file__).with_name("node_oracle.js")


class NodeError(Exception):
    """The expression threw inside Node; ``args[0]`` is ``"Name: message"``."""


class NodeOracle:
    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed")
        self._proc = subprocess.Popen(
            [node, str(_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def eval(self, expr: str) -> Any:
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(json.dumps({"expr": expr}) + "\n")
        self._proc.stdin.flush()
        reply = json.loads(self._proc.stdout.readline())
        if "error" in reply:
            raise NodeError(reply["error"])
        return reply["ok"]

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
