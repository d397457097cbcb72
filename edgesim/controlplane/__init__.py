"""The HTTP control plane: the AWS ``cloudfront-keyvaluestore`` wire API and edgesim's store API.

Wire format here, state in :mod:`edgesim.kvs` (moto's ``responses.py`` / ``models.py`` split).
The server names are imported lazily (PEP 562): the ``edgesim kvs`` client commands need only
``client`` and ``plan``, and should not pay for importing aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "BackgroundServer",
    "make_admin_app",
    "run_admin_server",
    "setup_admin",
    "start_admin_site",
]

if TYPE_CHECKING:
    from edgesim.controlplane.app import (
        BackgroundServer,
        make_admin_app,
        run_admin_server,
        setup_admin,
        start_admin_site,
    )


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'edgesim.controlplane' has no attribute {name!r}")
    return getattr(importlib.import_module("edgesim.controlplane.app"), name)
