"""Origin-modification helper calls: checked once against the documented constraints."""

from __future__ import annotations

from typing import Any

import pytest

from edgesim.runtime.origin_checks import OriginModification, origin_modifications

VR = "viewer-request"


def problems(helper: str, argument: Any, event_type: str = VR) -> tuple[str, ...]:
    return OriginModification.checked(event_type, helper, argument).problems


@pytest.mark.parametrize(
    "props",
    [
        {"domainName": "api.example.com"},
        {"domainName": "api.example.com", "originPath": "/v2", "connectionAttempts": 3},
        {"customHeaders": {"x-tenant": "acme"}, "timeouts": {"readTimeout": 30}},
        {"customHeaders": {}},
        {"originShield": {"enabled": True, "region": "us-east-2"}},
        {"customOriginConfig": {"port": 8443, "protocol": "https"}},
        {"domainName": "v6.example.com", "ipAddressType": "dualstack"},
        {"hostHeader": "h.example.com", "sni": "s.example.com"},
        {"allowedCertificateNames": ["*.example.com"]},
        {"domainName": "eu.example.com", "region": "eu-west-1"},  # as in AWS's sample
    ],
)
def test_valid_update_request_origin_calls_have_no_problems(props: dict[str, Any]) -> None:
    assert problems("updateRequestOrigin", props) == ()


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        (
            {"domainName": "10.0.0.1"},
            "updateRequestOrigin.domainName must be a DNS name of at most 253 characters, "
            "without ':' or IP",
        ),
        (
            {"domainName": "a.example.com:8080"},
            "updateRequestOrigin.domainName must be a DNS name of at most 253 characters, "
            "without ':' or IP",
        ),
        ({"domainName": ""}, "updateRequestOrigin.domainName must be a non-empty string"),
        (
            {"originPath": "v2/"},
            "updateRequestOrigin.originPath must start with '/', not end with '/', ≤ 255 characters",
        ),
        (
            {"connectionAttempts": 0},
            "updateRequestOrigin.connectionAttempts must be an integer from 1 to 3 (got 0)",
        ),
        (
            {"connectionAttempts": True},
            "updateRequestOrigin.connectionAttempts must be an integer from 1 to 3 (got True)",
        ),
        (
            {"customHeaders": {"X-Tenant": "acme"}},
            "updateRequestOrigin.customHeaders.X-Tenant: lowercase, allowed names only",
        ),
        (
            {"customHeaders": {"x-forwarded-proto": "https"}},
            "updateRequestOrigin.customHeaders.x-forwarded-proto: lowercase, allowed names only",
        ),
        (
            {"customHeaders": {"x-a": {"value": "b"}}},
            "updateRequestOrigin.customHeaders must be a flat {name: value} object of strings",
        ),
        (
            {"timeouts": {"connectionTimeout": 11}},
            "updateRequestOrigin.timeouts.connectionTimeout must be an integer from 1 to 10 (got 11)",
        ),
        (
            {"originShield": {"enabled": True}},
            "updateRequestOrigin.originShield.region is required when enabled",
        ),
        (
            {"ipAddressType": "ipv4"},
            "updateRequestOrigin.ipAddressType is only allowed together with domainName",
        ),
        (
            {"customOriginConfig": {"protocol": "ftp"}},
            "updateRequestOrigin.customOriginConfig.protocol must be 'http' or 'https'",
        ),
        ({"color": "blue"}, "updateRequestOrigin.color is not a known property"),
        ("api.example.com", "updateRequestOrigin takes an object of origin properties"),
    ],
)
def test_invalid_update_request_origin_calls(props: Any, expected: str) -> None:
    assert problems("updateRequestOrigin", props) == (expected,)


def test_every_problem_of_a_call_is_reported() -> None:
    found = problems(
        "updateRequestOrigin", {"domainName": "10.0.0.1", "originPath": "v2/", "sni": ""}
    )
    assert len(found) == 3


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("blue", ()),
        (["blue", {"hostHeader": "b.example.com"}], ()),
        ("", ("selectRequestOriginById needs an origin id",)),
        (None, ("selectRequestOriginById needs an origin id",)),
        ([], ("selectRequestOriginById needs an origin id",)),
        (["blue", "x"], ("selectRequestOriginById: overrides must be an object",)),
        (
            ["blue", {"domainName": "x.example.com"}],
            ("selectRequestOriginById overrides.domainName is not a known property",),
        ),
    ],
)
def test_select_request_origin_by_id(argument: Any, expected: tuple[str, ...]) -> None:
    assert problems("selectRequestOriginById", argument) == expected


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ({"originIds": ["a", "b"], "failoverCriteria": {"statusCodes": [500]}}, ()),
        (
            {
                "originIds": [{"originId": "a", "originOverrides": {}}, "b"],
                "failoverCriteria": {"statusCodes": [502, 503]},
                "selectionCriteria": "media-quality-score",
            },
            (),
        ),
        (
            {"originIds": ["a"], "failoverCriteria": {"statusCodes": [500]}},
            (
                "createRequestOriginGroup.originIds must list exactly two origins "
                "(primary, secondary)",
            ),
        ),
        (
            {"originIds": ["a", 7], "failoverCriteria": {"statusCodes": [500]}},
            ("createRequestOriginGroup.originIds[1] must be an id or {originId, originOverrides}",),
        ),
        (
            {"originIds": ["a", "b"]},
            (
                "createRequestOriginGroup.failoverCriteria.statusCodes must be a non-empty list "
                "of codes",
            ),
        ),
        (
            {
                "originIds": ["a", "b"],
                "failoverCriteria": {"statusCodes": [500]},
                "selectionCriteria": "fastest",
            },
            (
                "createRequestOriginGroup.selectionCriteria must be 'default' or "
                "'media-quality-score'",
            ),
        ),
    ],
)
def test_create_request_origin_group(argument: Any, expected: tuple[str, ...]) -> None:
    assert problems("createRequestOriginGroup", argument) == expected


@pytest.mark.parametrize(
    "helper", ["updateRequestOrigin", "selectRequestOriginById", "createRequestOriginGroup"]
)
def test_helpers_belong_to_viewer_request_functions(helper: str) -> None:
    assert problems(helper, "anything", event_type="viewer-response") == (
        f"{helper} can only be used in viewer-request functions",
    )


def test_an_unknown_helper_is_refused() -> None:
    with pytest.raises(ValueError, match="overrideRequestOrigin"):
        OriginModification.checked(VR, "overrideRequestOrigin", {})


def test_recorded_calls_become_checked_modifications_in_call_order() -> None:
    calls = [
        {"helper": "selectRequestOriginById", "argument": "blue"},
        {"helper": "updateRequestOrigin", "argument": {"connectionAttempts": 5}},
    ]
    first, second = origin_modifications(VR, calls)
    assert (first.helper, first.argument, first.problems) == ("selectRequestOriginById", "blue", ())
    assert second.helper == "updateRequestOrigin"
    assert second.problems == (
        "updateRequestOrigin.connectionAttempts must be an integer from 1 to 3 (got 5)",
    )
    assert first.as_dict() == {"helper": "selectRequestOriginById", "argument": "blue"}


def test_a_modification_is_immutable() -> None:
    (call,) = origin_modifications(VR, [{"helper": "selectRequestOriginById", "argument": "b"}])
    with pytest.raises(AttributeError):
        call.problems = ()  # type: ignore[misc]
