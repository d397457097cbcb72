"""pytester for the plugin's tests (see tests/unit/testing/conftest.py for why it is a hook)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")
