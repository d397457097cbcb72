"""The admin server's guards, for the KVS API and the inspector alike.

Two attacks matter for a server on loopback that a browser can reach:

* **DNS rebinding**: a page from ``attacker.example`` re-resolves its own name to 127.0.0.1 and
  talks to the admin port as if it were same-origin. Its requests carry ``Host:
  attacker.example``; the server answers only to loopback names (``localhost``, ``*.localhost``,
  ``127.0.0.0/8``, ``[::1]``, the same with an account-id prefix as botocore sends, e.g.
  ``123456789012.127.0.0.1``), the address it is bound to, and the names configured in
  ``[server] admin_allowed_hosts``.
* **Cross-site requests** (CSRF): a page elsewhere posts a form or a ``fetch`` to
  ``http://127.0.0.1:8081``. Browsers mark every such request with ``Origin`` or
  ``Sec-Fetch-Site`` (and can't leave them out). A state-changing request that a browser sent must
  come from the admin server's own origin *and* carry the per-process token the inspector page
  embeds (header :data:`TOKEN_HEADER`). Clients that are not browsers (boto3, the AWS CLI, the
  ``edgesim`` CLI, curl) send neither header and need no token: they are not a confused deputy.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

TOKEN_HEADER = "X-Edgesim-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# botocore puts the 12-digit account id of a KVS ARN in front of the endpoint's host.
_ACCOUNT_PREFIX = re.compile(r"^\d{12}\.")
_WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "[::]"})
_BROWSER_HEADERS = ("Origin", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def split_host(header: str) -> str:
    """The name part of a ``Host`` header, lower-case, without port or trailing dot
    (``[::1]:8081`` → ``[::1]``, ``Localhost.:80`` → ``localhost``)."""
    text = header.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        return text[: end + 1] if end > 0 else text
    name, colon, port = text.rpartition(":")
    if colon and (port.isdigit() or not port):
        text = name
    return text.rstrip(".")


def _loopback(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    literal = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        address = ipaddress.ip_address(literal)
    except ValueError:
        return False
    if address.version == 6 and not name.startswith("["):
        return False  # an IPv6 literal in a Host header is always bracketed
    return address.is_loopback


class HostPolicy:
    """Which ``Host`` names the admin server answers to. ``extra`` are the names of
    ``[server] admin_allowed_hosts`` (exact, or ``*.suffix`` for any name under it); ``bound``
    is the address the server listens on (allowed too, unless it is a wildcard)."""

    def __init__(self, extra: Iterable[str] = (), *, bound: str = "") -> None:
        self.exact: set[str] = set()
        self.suffixes: list[str] = []
        for raw in extra:
            name = raw.strip().lower()
            if name == "*":
                self.suffixes.append("")  # everything: documented as unsafe
            elif name.startswith("*."):
                self.suffixes.append(name[1:])
            elif name:
                self.exact.add(split_host(name))
        bound_name = bound.strip().lower()
        if bound_name not in _WILDCARD_BINDS:
            self.exact.add(f"[{bound_name}]" if ":" in bound_name else bound_name)

    def allows_name(self, name: str) -> bool:
        if _loopback(name) or name in self.exact:
            return True
        if any(name.endswith(suffix) for suffix in self.suffixes):
            return True
        if _ACCOUNT_PREFIX.match(name):
            return self.allows_name(name[13:])
        return False

    def allows(self, host_header: str) -> bool:
        return self.allows_name(split_host(host_header))

    def describe(self) -> str:
        names = ["localhost", "*.localhost", "127.0.0.0/8", "[::1]"]
        names += sorted(self.exact) + [f"*{s}" if s else "*" for s in self.suffixes]
        return ", ".join(names) + " (each also with a 12-digit account-id prefix; any port)"


def new_token() -> str:
    """A per-process secret for the inspector page's state-changing requests."""
    return secrets.token_urlsafe(24)


def is_browser(request: web.BaseRequest) -> bool:
    """Whether a browser sent this request: browsers add ``Origin`` to every non-GET request
    and ``Sec-Fetch-*`` to every request; other HTTP clients send neither."""
    headers = request.headers
    return any(name in headers for name in _BROWSER_HEADERS)


def same_origin(request: web.BaseRequest) -> bool:
    """The browser says the request comes from this server's own origin."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site != "same-origin":
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return site == "same-origin"
    parts = urlsplit(origin)
    host = request.headers.get("Host", "")
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.strip().lower()


def _refuse(status: int, code: str, message: str) -> web.Response:
    # AWS clients read the code from x-amzn-ErrorType and the text from "Message"; the store API
    # and the inspector read {"error": {"code", "message"}}.
    return web.json_response(
        {"Message": message, "error": {"code": code, "message": message}},
        status=status,
        headers={"x-amzn-ErrorType": code},
    )


def guard(policy: HostPolicy, token: str) -> Middleware:
    """The aiohttp middleware enforcing both rules on every route of the admin server."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host")
        # No Host at all: an HTTP/1.0 client, never a browser (browsers always send one).
        if host is not None and not policy.allows(host):
            return _refuse(
                403,
                "ForbiddenHost",
                f"Host {host!r} is not a name this edgesim admin server answers to "
                f"(DNS-rebinding protection). Allowed: {policy.describe()}. Add a name with "
                "[server] admin_allowed_hosts in edgesim.toml.",
            )
        if request.method not in SAFE_METHODS and is_browser(request):
            if not same_origin(request):
                return _refuse(
                    403,
                    "CrossOriginRequest",
                    "a browser sent this state-changing request from another origin "
                    f"({request.headers.get('Origin') or request.headers.get('Sec-Fetch-Site')}); "
                    "only the inspector page served by this admin server may change state",
                )
            sent = request.headers.get(TOKEN_HEADER, "")
            if not hmac.compare_digest(sent.encode(), token.encode()):
                return _refuse(
                    403,
                    "InvalidToken",
                    f"a state-changing request from a browser needs the {TOKEN_HEADER} header "
                    "with this process's token (the inspector page sends it; reload the page "
                    "after a restart of edgesim)",
                )
        return await handler(request)

    return middleware
