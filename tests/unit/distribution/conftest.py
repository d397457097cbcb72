from pathlib import Path

import pytest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A config directory with a function file, a good and a bad KVS seed file, and a directory."""
    (tmp_path / "fn.js").write_text("function handler(event) { return event.request; }\n")
    (tmp_path / "seed.json").write_text('{"data": [{"key": "k", "value": "v"}]}')
    (tmp_path / "bad.json").write_text('{"data": [{"key": "k"}]}')
    (tmp_path / "adir").mkdir()
    return tmp_path
