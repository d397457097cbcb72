"""Helpers for the build tests: Node's presence and the stand-in build command."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import pytest

FAKEBUILD = Path(__file__).parent / "fakebuild.py"

needs_node = pytest.mark.skipif(
    shutil.which("node") is None, reason="Node.js is not installed: source maps are decoded by Node"
)


def fake_build(src: str, out: str, *flags: str) -> str:
    """The command line of the stand-in build (run in the project directory)."""
    words = [sys.executable, str(FAKEBUILD), src, out, *flags]
    return " ".join(shlex.quote(w) for w in words)
