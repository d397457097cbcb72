"""Tests of the cookbook functions in ``functions/``, written against ``edgesim.testing`` only."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
KVS_FIXTURES = ROOT / "fixtures" / "kvs"
EVENT_FIXTURES = ROOT / "fixtures" / "events"
