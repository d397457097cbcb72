"""Hypothesis strategies for testing CloudFront Functions with edgesim.

Events (always valid CloudFront events), their parts, and KeyValueStore contents and faults::

    from hypothesis import given
    from edgesim import strategies as es

    @given(es.viewer_requests(uri="/checkout"), es.kvs_faults())
    def test_something(event, fault): ...

The implementation lives in :mod:`edgesim.testing._strategies`; import the names from here.
"""

from edgesim.testing._strategies import (
    COUNTRY_CODES,
    KVS_FAULTS,
    cookies,
    countries,
    headers,
    hosts,
    ipv4_addresses,
    ipv6_addresses,
    kvs_contents,
    kvs_faults,
    kvs_json_values,
    kvs_keys,
    kvs_values,
    lag_models,
    methods,
    query_strings,
    response_cookies,
    response_headers,
    status_codes,
    uris,
    user_agents,
    viewer_addresses,
    viewer_requests,
    viewer_responses,
)

__all__ = [
    "COUNTRY_CODES",
    "KVS_FAULTS",
    "cookies",
    "countries",
    "headers",
    "hosts",
    "ipv4_addresses",
    "ipv6_addresses",
    "kvs_contents",
    "kvs_faults",
    "kvs_json_values",
    "kvs_keys",
    "kvs_values",
    "lag_models",
    "methods",
    "query_strings",
    "response_cookies",
    "response_headers",
    "status_codes",
    "uris",
    "user_agents",
    "viewer_addresses",
    "viewer_requests",
    "viewer_responses",
]
