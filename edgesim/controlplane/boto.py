"""A boto3 ``cloudfront-keyvaluestore`` client that reaches a local control plane as is.

botocore's endpoint rules put the account id of the ARN in front of the endpoint's host, so with
``endpoint_url="http://localhost:8081"`` every request goes to ``123456789012.localhost:8081``.
That name resolves only where ``*.localhost`` maps to loopback (systemd-resolved) or with a hosts
file line. Rather than ask for either, :func:`kvs_client` registers a ``before-send`` hook that
points the connection back at the endpoint's own host. The request keeps its ``Host`` header and
its SigV4A signature (computed for the prefixed host); the emulator verifies neither. A
``Config(proxies=...)`` pointing at the endpoint also works (the server accepts absolute-form
request lines), but a hook leaves the user's proxy settings alone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3  # type: ignore[import-untyped]

# Signatures are not verified; fixed dummy credentials keep real ones out of local traffic and
# avoid NoCredentialsError on machines without any.
DUMMY_CREDENTIALS = {"aws_access_key_id": "EDGESIMLOCAL", "aws_secret_access_key": "edgesim"}


def endpoint_rewriter(endpoint: str) -> Any:
    """A ``before-send`` handler sending ``<account>.<endpoint host>`` requests to the endpoint."""
    target = urlsplit(endpoint).netloc

    def rewrite(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        account, dot, rest = parts.netloc.partition(".")
        if dot and account.isdigit() and rest == target:
            request.url = urlunsplit(parts._replace(netloc=target))

    return rewrite


def kvs_client(endpoint: str, **kwargs: Any) -> Any:
    """``boto3.client("cloudfront-keyvaluestore")`` for the control plane at ``endpoint``.

    Keyword arguments go to ``boto3.client`` (``config=``, credentials, ``region_name``…).
    Signing uses SigV4A, which needs ``botocore[crt]`` as against AWS.
    """
    kwargs.setdefault("region_name", "us-east-1")
    if "aws_access_key_id" not in kwargs:
        kwargs.update(DUMMY_CREDENTIALS)
    client = boto3.client("cloudfront-keyvaluestore", endpoint_url=endpoint, **kwargs)
    client.meta.events.register("before-send", endpoint_rewriter(endpoint))
    return client
