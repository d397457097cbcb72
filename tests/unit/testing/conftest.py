"""The edgesim plugin's fixtures for these tests, whether or not its ``pytest11`` entry point is
installed yet: importing them here shadows the entry point's copies (pytest would refuse a
second registration of the module, and ``pytest_plugins`` is only allowed in the root conftest).
"""

from __future__ import annotations

import pytest

from edgesim.testing.plugin import edgesim_kvs, edgesim_load, edgesim_server

__all__ = ["edgesim_kvs", "edgesim_load", "edgesim_server"]


def pytest_configure(config: pytest.Config) -> None:
    # test_plugin.py runs pytest inside pytest with the `pytester` fixture; this conftest may be
    # loaded late (collecting `tests/`), where only a hook can register a plugin.
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")
