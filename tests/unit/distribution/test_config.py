"""edgesim.toml → Distribution: whole documents (the full and minimal examples, file errors, many
problems at once, top-level keys, arbitrary documents). Each part's keys and problems are tested
next to its reader: test_origins.py, test_policies.py, test_edges.py, …"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgesim.distribution import (
    behaviors,
    edges,
    origins,
    policies,
    resources,
    response_headers,
    server,
    throttling,
)
from edgesim.distribution.config import TOP_LEVEL_KEYS, load_config, parse_config
from edgesim.distribution.edges import DEFAULT_PROPAGATION
from edgesim.distribution.managed import (
    MANAGED_CACHE_POLICIES,
    MANAGED_ORIGIN_REQUEST_POLICIES,
    MANAGED_RESPONSE_HEADERS_POLICIES,
)
from edgesim.distribution.model import (
    ALL_METHODS,
    GET_HEAD,
    GET_HEAD_OPTIONS,
    Behavior,
    CachePolicy,
    CidrRule,
    CorsConfig,
    CustomErrorResponse,
    CustomHeader,
    Distribution,
    Edges,
    FunctionDecl,
    KvsDecl,
    LocalOrigin,
    Origin,
    OriginGroup,
    OriginRequestPolicy,
    ResponseHeadersPolicy,
    Selection,
    ServerSettings,
    Throttling,
)
from edgesim.errors import InputError
from edgesim.kvs.propagation import PropagationSpec
from tests.unit.distribution.helpers import (
    BASE,
    CONFIGS,
    DEFAULT,
    ORIGIN,
    ROOT,
    assert_problem,
    named_cases,
    parse,
    problems_of,
)

# -- the full example --------------------------------------------------------------------------


def expected_full() -> Distribution:
    here = CONFIGS
    site = ResponseHeadersPolicy(
        name="site",
        security_headers=(
            CustomHeader("Content-Security-Policy", "default-src 'self'"),
            CustomHeader("X-Content-Type-Options", "nosniff"),
            CustomHeader("X-Frame-Options", "DENY", override=False),
            CustomHeader("Referrer-Policy", "same-origin"),
            CustomHeader(
                "Strict-Transport-Security", "max-age=63072000; includeSubDomains; preload"
            ),
            CustomHeader("X-XSS-Protection", "1; mode=block"),
        ),
        custom_headers=(CustomHeader("X-Env", "dev"), CustomHeader("X-Team", "edge", False)),
        remove_headers=frozenset({"server", "x-powered-by"}),
        cors=CorsConfig(
            allow_origins=("https://app.example.com",),
            allow_headers=("Content-Type",),
            allow_methods=("GET", "POST"),
            allow_credentials=True,
            expose_headers=("X-Request-Id",),
            max_age_s=600,
            origin_override=True,
        ),
    )
    per_user = CachePolicy(
        name="per-user",
        min_ttl=0,
        default_ttl=60,
        max_ttl=3600,
        headers=Selection("whitelist", frozenset({"authorization", "cloudfront-viewer-country"})),
        cookies=Selection("whitelist", frozenset({"session", "uid"})),
        query_strings=Selection("allExcept", frozenset({"utm_source"})),
        enable_gzip=True,
        enable_brotli=True,
    )
    with_geo = OriginRequestPolicy(
        name="with-geo",
        headers=Selection(
            "allViewerAndWhitelistCloudFront", frozenset({"cloudfront-viewer-address"})
        ),
        cookies=Selection("all"),
        query_strings=Selection("all"),
    )
    return Distribution(
        server=ServerSettings(
            host="127.0.0.1",
            port=8080,
            admin_port=8081,
            state_dir=here / ".edgesim-state",
            ephemeral=True,
            domain_name="d123example.cloudfront.net",
            access_log=here / "logs" / "access.log",
            debug_headers=True,
            network_origins=False,
        ),
        origins={
            "app": Origin(
                id="app",
                url="http://127.0.0.1:3000",
                origin_path="/v1",
                custom_headers=(CustomHeader("X-Origin-Secret", "s3cr3t"),),
                connect_timeout_s=2.0,
                response_timeout_s=15.5,
                connection_attempts=2,
            ),
            "backup": Origin(id="backup", url="https://backup.example.com:8443"),
        },
        origin_groups={
            "app-ha": OriginGroup(
                id="app-ha",
                primary="app",
                secondary="backup",
                failover_status_codes=frozenset({404, 500, 502, 503, 504}),
            )
        },
        kvs={
            "config": KvsDecl("config", ROOT / "fixtures" / "kvs" / "ab_cohort.json"),
            "empty": KvsDecl("empty"),
        },
        functions={
            "ab-test": FunctionDecl(
                "ab-test", ROOT / "functions" / "ab_cohort.js", "cloudfront-js-2.0", "config"
            ),
            "geo": FunctionDecl(
                "geo",
                ROOT / "functions" / "country_redirect.js",
                "cloudfront-js-1.0",
                compat="lenient",
            ),
            "security": FunctionDecl(
                "security",
                ROOT / "functions" / "security_headers.js",
                rules=(("nullish-coalescing", "strict"), ("absent-method", "lenient")),
            ),
        },
        behaviors=(
            Behavior(
                path="/checkout*",
                origin="app-ha",
                cache_policy=MANAGED_CACHE_POLICIES["CachingDisabled"],
                origin_request_policy=MANAGED_ORIGIN_REQUEST_POLICIES["AllViewerExceptHostHeader"],
                response_headers_policy=site,
                viewer_request="ab-test",
                viewer_response="security",
                allowed_methods=ALL_METHODS,
                cached_methods=GET_HEAD_OPTIONS,
                viewer_protocol_policy="redirect-to-https",
                compress=False,
            ),
            Behavior(
                path="api/*",
                origin="app",
                cache_policy=per_user,
                origin_request_policy=with_geo,
                viewer_request="geo",
            ),
            Behavior(
                path="*.jpg",
                origin="backup",
                cache_policy=MANAGED_CACHE_POLICIES["CachingOptimized"],
                response_headers_policy=MANAGED_RESPONSE_HEADERS_POLICIES[
                    "CORS-With-Preflight-and-SecurityHeadersPolicy"
                ],
            ),
        ),
        default_behavior=Behavior(
            path="*",
            origin="app",
            cache_policy=MANAGED_CACHE_POLICIES["CachingOptimized"],
            origin_request_policy=MANAGED_ORIGIN_REQUEST_POLICIES["AllViewer"],
            response_headers_policy=MANAGED_RESPONSE_HEADERS_POLICIES["SecurityHeadersPolicy"],
        ),
        edges=Edges(
            pops=("IAD", "FRA", "NRT"),
            propagation=PropagationSpec(
                "uniform", min_ms=500, max_ms=3000, seed=7, per_pop_ms={"FRA": 4000.0}
            ),
            pop_cidrs=(CidrRule("10.1.0.0/16", "FRA"), CidrRule("2001:db8::/32", "NRT")),
            country_cidrs=(CidrRule("192.0.2.0/24", "DE"),),
            default_country="US",
        ),
        custom_error_responses={
            404: CustomErrorResponse(404, "/errors/404.html", 404, 30),
            503: CustomErrorResponse(503, None, None, 0),
        },
        config_path=here / "full.toml",
        origins_local={
            "backup": LocalOrigin("backup", url="http://127.0.0.1:3001"),
            "api.example.com": LocalOrigin("api.example.com", url="http://127.0.0.1:9000"),
            "assets.example.com": LocalOrigin(
                "assets.example.com", directory=ROOT / "fixtures" / "events"
            ),
        },
        throttling=Throttling(
            enabled=True,
            window_s=20.0,
            min_invocations=5,
            over_budget_ratio=0.8,
            duration_s=60.0,
        ),
    )


def test_full_example_round_trips_into_the_model() -> None:
    assert load_config(CONFIGS / "full.toml") == expected_full()


def test_full_example_shares_the_managed_policy_objects() -> None:
    dist = load_config(CONFIGS / "full.toml")
    assert dist.default_behavior.cache_policy is MANAGED_CACHE_POLICIES["CachingOptimized"]
    assert dist.all_behaviors()[-1] is dist.default_behavior


def test_minimal_example_gets_the_defaults() -> None:
    dist = load_config(CONFIGS / "minimal.toml")
    assert dist.server == ServerSettings(state_dir=CONFIGS / ".edgesim")
    assert dist.behaviors == ()
    assert dist.default_behavior == Behavior(
        path="*", origin="app", cache_policy=MANAGED_CACHE_POLICIES["CachingOptimized"]
    )
    assert dist.default_behavior.allowed_methods == GET_HEAD
    assert dist.edges == Edges(propagation=DEFAULT_PROPAGATION)
    assert dist.origins_local == {}
    assert dist.throttling == Throttling()
    assert dist.kvs == {}
    assert dist.functions == {}
    assert dist.custom_error_responses == {}


def test_parse_config_resolves_paths_against_base_dir(project: Path) -> None:
    dist = parse(
        project,
        BASE
        + """
[[functions]]
name = "fn"
file = "fn.js"

[[kvs]]
name = "store"
data = "./seed.json"
""",
    )
    assert dist.functions["fn"].file == project / "fn.js"
    assert dist.kvs["store"].data == project / "seed.json"
    assert dist.config_path is None


# -- load_config failures ----------------------------------------------------------------------


def test_toml_syntax_error_names_line_and_column() -> None:
    with pytest.raises(InputError) as info:
        load_config(CONFIGS / "syntax_error.toml")
    message = str(info.value)
    assert message.startswith(f"{CONFIGS / 'syntax_error.toml'}: invalid TOML: ")
    assert "(at line 6, column 8)" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the configuration"):
        load_config(tmp_path / "nope.toml")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "edgesim.toml"
    path.write_bytes(b'[server]\nhost = "\xff"\n')
    with pytest.raises(InputError, match="not UTF-8"):
        load_config(path)


def test_all_problems_are_reported_together(project: Path) -> None:
    message = problems_of(
        project,
        """
[server]
port = "80"

[[origins]]
id = "app"
url = "ftp://x"

[default_behavior]
origin = "ap"
""",
    )
    lines = message.splitlines()
    assert lines[0] == "edgesim.toml: 3 problems in the configuration:"
    assert lines[1:] == [
        "edgesim.toml: server.port: expected an integer, got string '80'",
        "edgesim.toml: origins[0].url: 'ftp://x': the scheme must be http or https",
        "edgesim.toml: default_behavior.origin: unknown origin or origin group 'ap' (did you mean 'app'?)",
    ]


# -- top-level problems ------------------------------------------------------------------------

CASES = named_cases(
    [
        (
            "unknown-top-level",
            "behaviours = []\n" + BASE,
            "edgesim.toml: behaviours: unknown key (did you mean 'behaviors'?); allowed keys: server, origins, origin_groups,",
        ),
        (
            "no-origins",
            DEFAULT,
            "edgesim.toml: origins: at least one [[origins]] table is required",
        ),
        (
            "empty-origins",
            "origins = []\n" + DEFAULT,
            "edgesim.toml: origins: at least one [[origins]] table is required",
        ),
        (
            "origins-not-array",
            'origins = { id = "app" }\n' + DEFAULT,
            "edgesim.toml: origins: expected an array of tables ([[origins]]), got table",
        ),
        (
            "origin-entry-not-table",
            "origins = [1]\n" + DEFAULT,
            "edgesim.toml: origins[0]: expected a table, got integer 1",
        ),
        (
            "no-default-behavior",
            ORIGIN,
            "edgesim.toml: default_behavior: a [default_behavior] table is required",
        ),
        (
            "default-behavior-not-table",
            "default_behavior = 1\n" + ORIGIN,
            "edgesim.toml: default_behavior: expected a table ([default_behavior]), got integer",
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_problem_is_named(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)


# -- robustness --------------------------------------------------------------------------------

_KEYS = sorted(
    {
        *TOP_LEVEL_KEYS,
        *server.SERVER_KEYS,
        *origins.ORIGIN_KEYS,
        *behaviors.BEHAVIOR_KEYS,
        *policies.CACHE_POLICY_KEYS,
        *response_headers.RESPONSE_HEADERS_POLICY_KEYS,
        *response_headers.SECURITY_HEADER_KEYS,
        *response_headers.CORS_KEYS,
        *edges.EDGES_KEYS,
        *policies.SELECTION_KEYS,
        *behaviors.ASSOCIATION_KEYS,
        *resources.FUNCTION_KEYS,
        *throttling.THROTTLING_KEYS,
        "model",
        "lag_ms",
        "min_ms",
        "max_ms",
        "value",
        "override",
    }
)
_SCALARS = st.one_of(
    st.booleans(),
    st.integers(-5, 70_000),
    st.floats(allow_nan=True),
    st.sampled_from(["app", "*", "/a*", "all", "whitelist", "GET", "IAD", "fn.js", "", "x y"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
@given(doc=st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=6))
def test_any_document_gives_a_distribution_or_an_input_error(
    project: Path, doc: dict[str, object]
) -> None:
    message = ""
    try:
        result = parse_config(doc, base_dir=project, source="fuzz.toml")
    except InputError as exc:
        message = str(exc)
    if message:
        assert message.startswith("fuzz.toml: ")
    else:
        assert isinstance(result, Distribution)
