"""The HTTP control plane: the AWS ``cloudfront-keyvaluestore`` wire API and edgesim's store API.

Wire format here, state in :mod:`edgesim.kvs` (moto's ``responses.py`` / ``models.py`` split).
"""

from edgesim.controlplane.app import (
    BackgroundServer,
    make_admin_app,
    run_admin_server,
    setup_admin,
    start_admin_site,
)

__all__ = [
    "BackgroundServer",
    "make_admin_app",
    "run_admin_server",
    "setup_admin",
    "start_admin_site",
]
