"""``edgesim cache invalidate``'s work: ask a running serve to drop cached objects, print what
each path pattern removed, and answer the admin clients' exit code.

Through :class:`~edgesim.controlplane.client.ControlPlaneClient`, so proxies from the
environment are ignored (the admin endpoint is local) and an unreachable endpoint exits 1, as
for the ``edgesim kvs`` commands.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from edgesim.controlplane.client import (
    INVALIDATIONS,
    ControlPlaneClient,
    ControlPlaneError,
    EndpointUnreachable,
)
from edgesim.controlplane.endpoint import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    Endpoint,
)

TIMEOUT_S = 10.0


def invalidate(endpoint: str | Endpoint, paths: Sequence[str]) -> int:
    """Invalidate ``paths`` (``/index.html``, ``/images/*``) on the serve at ``endpoint``.

    Exit codes: 0 done; 1 the endpoint is unreachable, or failed; 2 serve refused the paths
    (e.g. a ``*`` that does not end one)."""
    client = ControlPlaneClient(endpoint, timeout=TIMEOUT_S)
    try:
        removed = client.invalidate_cache(list(paths))
    except EndpointUnreachable as exc:
        print(f"edgesim: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ControlPlaneError as exc:
        print(
            f"edgesim: {client.endpoint}{INVALIDATIONS}: {exc.status} {exc.message}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT if exc.status == 400 else EXIT_FAILED
    for path, count in removed.items():
        print(f"{path}: {count} object(s) removed")
    sys.stdout.flush()
    return EXIT_OK
