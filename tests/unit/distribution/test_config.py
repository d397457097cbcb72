"""edgesim.toml → Distribution: the full example round-trips, and every problem is named."""

from __future__ import annotations

import random
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgesim.distribution import config as config_module
from edgesim.distribution.config import load_config, parse_config
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
    Origin,
    OriginGroup,
    OriginRequestPolicy,
    ResponseHeadersPolicy,
    Selection,
    ServerSettings,
)
from edgesim.errors import InputError

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = ROOT / "fixtures" / "config"

BASE = """
[[origins]]
id = "app"
url = "http://127.0.0.1:3000"

[default_behavior]
origin = "app"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "fn.js").write_text("function handler(event) { return event.request; }\n")
    (tmp_path / "seed.json").write_text('{"data": [{"key": "k", "value": "v"}]}')
    (tmp_path / "bad.json").write_text('{"data": [{"key": "k"}]}')
    (tmp_path / "adir").mkdir()
    return tmp_path


def parse(project: Path, text: str) -> Distribution:
    return parse_config(tomllib.loads(text), base_dir=project, source="edgesim.toml")


def problems_of(project: Path, text: str) -> str:
    with pytest.raises(InputError) as info:
        parse(project, text)
    return str(info.value)


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
                "geo", ROOT / "functions" / "country_redirect.js", "cloudfront-js-1.0"
            ),
            "security": FunctionDecl("security", ROOT / "functions" / "security_headers.js"),
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
            propagation={
                "model": "uniform",
                "min_ms": 500,
                "max_ms": 3000,
                "seed": 7,
                "per_pop_ms": {"FRA": 4000.0},
            },
            propagation_per_pop={"FRA": 4000.0},
            pop_cidrs=(CidrRule("10.1.0.0/16", "FRA"), CidrRule("2001:db8::/32", "NRT")),
            country_cidrs=(CidrRule("192.0.2.0/24", "DE"),),
            default_country="US",
        ),
        custom_error_responses={
            404: CustomErrorResponse(404, "/errors/404.html", 404, 30),
            503: CustomErrorResponse(503, None, None, 0),
        },
        config_path=here / "full.toml",
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
    assert dist.edges == Edges()
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


def test_cache_policy_ttl_defaults(project: Path) -> None:
    text = (
        BASE
        + """
[[cache_policies]]
name = "small"
min_ttl = 5

[[cache_policies]]
name = "big-min"
min_ttl = 100000

[[cache_policies]]
name = "huge-default"
default_ttl = 40000000
"""
    )
    dist = parse(
        project,
        text + '[[behaviors]]\npath = "/a"\norigin = "app"\ncache_policy = "small"\n'
        '[[behaviors]]\npath = "/b"\norigin = "app"\ncache_policy = "big-min"\n'
        '[[behaviors]]\npath = "/c"\norigin = "app"\ncache_policy = "huge-default"\n',
    )
    ttls = [
        (b.cache_policy.min_ttl, b.cache_policy.default_ttl, b.cache_policy.max_ttl)
        for b in dist.behaviors
    ]
    assert ttls == [
        (5, 86_400, 31_536_000),
        (100_000, 100_000, 31_536_000),
        (0, 40_000_000, 40_000_000),
    ]


def test_selection_shorthands(project: Path) -> None:
    text = (
        BASE
        + """
[[cache_policies]]
name = "p"
headers = []
cookies = "all"
query_strings = ["Page", "page"]

[[behaviors]]
path = "/p"
origin = "app"
cache_policy = "p"
"""
    )
    policy = parse(project, text).behaviors[0].cache_policy
    assert policy.headers == Selection()
    assert policy.cookies == Selection("all")
    # Query-string and cookie names keep their case: CloudFront compares them case-sensitively.
    assert policy.query_strings == Selection("whitelist", frozenset({"Page", "page"}))


def test_fixed_propagation_and_defaults(project: Path) -> None:
    text = (
        BASE
        + """
[edges]
pops = ["IAD"]
propagation = { model = "fixed", lag_ms = 2000 }
"""
    )
    edges = parse(project, text).edges
    assert edges.propagation == {"model": "fixed", "lag_ms": 2000}
    assert edges.default_country == "US"
    assert edges.pop_cidrs == ()


def test_per_pop_lags_from_either_spelling(project: Path) -> None:
    text = (
        BASE
        + """
[edges]
pops = ["IAD", "FRA", "NRT"]
propagation = { model = "fixed", lag_ms = 10, per_pop_ms = { NRT = 8000 } }
propagation_per_pop = { FRA = 4000 }
"""
    )
    edges = parse(project, text).edges
    assert edges.propagation_per_pop == {"FRA": 4000.0, "NRT": 8000.0}
    assert edges.propagation == {
        "model": "fixed",
        "lag_ms": 10,
        "per_pop_ms": {"FRA": 4000.0, "NRT": 8000.0},
    }


def test_propagation_spec_is_accepted_by_the_kvs_lag_models() -> None:
    # The spec is handed as written to edgesim.kvs.propagation; check the two agree.
    propagation = pytest.importorskip("edgesim.kvs.propagation")
    build = getattr(propagation, "lag_model_from_config", None)
    if build is None:
        pytest.skip("edgesim.kvs.propagation has no lag_model_from_config")
    edges = load_config(CONFIGS / "full.toml").edges
    model = build(edges.propagation)
    assert model.lag_seconds("FRA", random.Random(1)) == 4.0
    assert 0.5 <= model.lag_seconds("IAD", random.Random(1)) <= 3.0
    assert build(Edges().propagation).lag_seconds("IAD", random.Random(1)) == 0


def test_security_header_variants(project: Path) -> None:
    text = (
        BASE
        + """
[[response_headers_policies]]
name = "r"
[response_headers_policies.security_headers]
content_type_options = { override = false }
xss_protection = { protection = false }
strict_transport_security = { max_age_s = 60, override = false }
referrer_policy = { value = "no-referrer", override = false }

[[behaviors]]
path = "/r"
origin = "app"
response_headers_policy = "r"
"""
    )
    policy = parse(project, text).behaviors[0].response_headers_policy
    assert policy is not None
    assert policy.security_headers == (
        CustomHeader("X-Content-Type-Options", "nosniff", False),
        CustomHeader("Referrer-Policy", "no-referrer", False),
        CustomHeader("Strict-Transport-Security", "max-age=60", False),
        CustomHeader("X-XSS-Protection", "0"),
    )
    assert policy.cors is None


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


# -- every problem, named ----------------------------------------------------------------------

ORIGIN = '[[origins]]\nid = "app"\nurl = "http://127.0.0.1:3000"\n'
DEFAULT = '[default_behavior]\norigin = "app"\n'


def origin_with(extra: str) -> str:
    return ORIGIN + extra + "\n" + DEFAULT


def behavior(extra: str) -> str:
    return BASE + '[[behaviors]]\npath = "/x"\norigin = "app"\n' + extra + "\n"


def fn(extra: str = "") -> str:
    return '[[functions]]\nname = "fn"\nfile = "fn.js"\n' + extra + "\n"


def policy(table: str, body: str) -> str:
    return BASE + f'[[{table}]]\nname = "p"\n' + body + "\n"


def rhp(body: str) -> str:
    return policy("response_headers_policies", body)


def edges(body: str) -> str:
    return BASE + '[edges]\npops = ["IAD", "FRA"]\n' + body + "\n"


MANY_GROUPS = "".join(
    f'[[origin_groups]]\nid = "g{i}"\nprimary = "app"\nsecondary = "b"\n' for i in range(11)
)
MANY_BEHAVIORS = "".join(f'[[behaviors]]\npath = "/p{i}"\norigin = "app"\n' for i in range(76))

CASES = [
    # top level
    (
        "unknown-top-level",
        "behaviours = []\n" + BASE,
        "edgesim.toml: behaviours: unknown key (did you mean 'behaviors'?); allowed keys: server, origins, origin_groups,",
    ),
    ("no-origins", DEFAULT, "edgesim.toml: origins: at least one [[origins]] table is required"),
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
    # [server]
    (
        "server-not-table",
        "server = 5\n" + BASE,
        "edgesim.toml: server: expected a table ([server]), got integer",
    ),
    (
        "server-port-type",
        '[server]\nport = "8080"\n' + BASE,
        "edgesim.toml: server.port: expected an integer, got string '8080'",
    ),
    (
        "server-port-bool",
        "[server]\nport = true\n" + BASE,
        "edgesim.toml: server.port: expected an integer, got boolean True",
    ),
    (
        "server-port-range",
        "[server]\nport = 70000\n" + BASE,
        "edgesim.toml: server.port: 70000 is out of range (allowed: 0 to 65535)",
    ),
    (
        "server-same-ports",
        "[server]\nport = 9000\nadmin_port = 9000\n" + BASE,
        "edgesim.toml: server.admin_port: must differ from port (9000)",
    ),
    (
        "server-unknown-key",
        "[server]\nprot = 1\n" + BASE,
        "edgesim.toml: server.prot: unknown key (did you mean 'port'?); allowed keys: host, port,",
    ),
    (
        "server-domain",
        '[server]\ndomain_name = "not a host!"\n' + BASE,
        "edgesim.toml: server.domain_name: 'not a host!' is not a host name",
    ),
    (
        "server-ephemeral",
        '[server]\nephemeral = "yes"\n' + BASE,
        "edgesim.toml: server.ephemeral: expected true or false, got string 'yes'",
    ),
    (
        "server-empty-host",
        '[server]\nhost = ""\n' + BASE,
        "edgesim.toml: server.host: must not be empty",
    ),
    # [[origins]]
    (
        "origin-scheme",
        '[[origins]]\nid = "app"\nurl = "ftp://h"\n' + DEFAULT,
        "edgesim.toml: origins[0].url: 'ftp://h': the scheme must be http or https",
    ),
    (
        "origin-path-in-url",
        '[[origins]]\nid = "app"\nurl = "http://h/app/"\n' + DEFAULT,
        "edgesim.toml: origins[0].url: 'http://h/app/': an origin URL has no path; put '/app' in origin_path instead",
    ),
    (
        "origin-bad-port",
        '[[origins]]\nid = "app"\nurl = "http://h:99999"\n' + DEFAULT,
        "edgesim.toml: origins[0].url: 'http://h:99999' is not a valid URL",
    ),
    (
        "origin-no-host",
        '[[origins]]\nid = "app"\nurl = "http://"\n' + DEFAULT,
        "edgesim.toml: origins[0].url: 'http://': the host is missing",
    ),
    (
        "origin-query",
        '[[origins]]\nid = "app"\nurl = "http://h?a=1"\n' + DEFAULT,
        "edgesim.toml: origins[0].url: 'http://h?a=1': an origin URL has no query string or fragment",
    ),
    (
        "origin-userinfo",
        '[[origins]]\nid = "app"\nurl = "http://u:p@h"\n' + DEFAULT,
        "user information is not allowed",
    ),
    (
        "origin-missing-id",
        '[[origins]]\nurl = "http://h"\n' + DEFAULT,
        "edgesim.toml: origins[0].id: is required",
    ),
    (
        "origin-missing-url",
        '[[origins]]\nid = "app"\n' + DEFAULT,
        "edgesim.toml: origins[0].url: is required",
    ),
    (
        "origin-duplicate",
        ORIGIN + ORIGIN + DEFAULT,
        "edgesim.toml: origins[1].id: duplicate origin id 'app' (first declared at origins[0])",
    ),
    (
        "origin-path",
        origin_with('origin_path = "v1/"'),
        "edgesim.toml: origins[0].origin_path: 'v1/' must start with '/', not end with '/'",
    ),
    (
        "origin-header-forbidden",
        origin_with('custom_headers = { Host = "x" }'),
        "edgesim.toml: origins[0].custom_headers.Host: CloudFront cannot add 'Host' to origin requests",
    ),
    (
        "origin-header-prefix",
        origin_with('custom_headers = { X-Amz-Date = "x" }'),
        "edgesim.toml: origins[0].custom_headers.X-Amz-Date: CloudFront cannot add 'X-Amz-Date' to origin requests",
    ),
    (
        "origin-header-name",
        origin_with('custom_headers = { "a b" = "x" }'),
        "edgesim.toml: origins[0].custom_headers.a b: 'a b' is not a valid header name",
    ),
    (
        "origin-header-value",
        origin_with("custom_headers = { X-A = 1 }"),
        "edgesim.toml: origins[0].custom_headers.X-A: expected a string, got integer 1",
    ),
    (
        "origin-header-twice",
        origin_with('custom_headers = { X-A = "1", x-a = "2" }'),
        "edgesim.toml: origins[0].custom_headers: header 'x-a' is listed twice (header names ignore case)",
    ),
    (
        "origin-headers-type",
        origin_with('custom_headers = "X-A: 1"'),
        "edgesim.toml: origins[0].custom_headers: expected a table, got string",
    ),
    (
        "origin-connect-timeout",
        origin_with("connect_timeout_s = 11"),
        "edgesim.toml: origins[0].connect_timeout_s: 11 is out of range (allowed: 1 to 10)",
    ),
    (
        "origin-response-timeout",
        origin_with("response_timeout_s = 0.5"),
        "edgesim.toml: origins[0].response_timeout_s: 0.5 is out of range (allowed: 1 to 120)",
    ),
    (
        "origin-attempts",
        origin_with("connection_attempts = 4"),
        "edgesim.toml: origins[0].connection_attempts: 4 is out of range (allowed: 1 to 3)",
    ),
    (
        "origin-attempts-float",
        origin_with("connection_attempts = 2.5"),
        "edgesim.toml: origins[0].connection_attempts: expected an integer, got float 2.5",
    ),
    (
        "origin-timeout-nan",
        origin_with("connect_timeout_s = nan"),
        "edgesim.toml: origins[0].connect_timeout_s: must be a finite number, not nan",
    ),
    (
        "origin-unknown-key",
        origin_with('path = "/x"'),
        "edgesim.toml: origins[0].path: unknown key (did you mean 'origin_path'?); allowed keys: id, url, origin_path,",
    ),
    # [[origin_groups]]
    (
        "group-unknown-member",
        BASE + '[[origin_groups]]\nid = "g"\nprimary = "ap"\nsecondary = "app"\n',
        "edgesim.toml: origin_groups[0].primary: unknown origin 'ap' (did you mean 'app'?); members must be origins",
    ),
    (
        "group-same-members",
        BASE + '[[origin_groups]]\nid = "g"\nprimary = "app"\nsecondary = "app"\n',
        "edgesim.toml: origin_groups[0].secondary: must differ from primary ('app'): a group has two origins",
    ),
    (
        "group-code",
        BASE
        + '[[origin_groups]]\nid = "g"\nprimary = "app"\nsecondary = "b"\nfailover_status_codes = [501]\n',
        "edgesim.toml: origin_groups[0].failover_status_codes: 501 is not one of 400, 403, 404, 416, 500, 502, 503, 504",
    ),
    (
        "group-codes-empty",
        BASE
        + '[[origin_groups]]\nid = "g"\nprimary = "app"\nsecondary = "b"\nfailover_status_codes = []\n',
        "edgesim.toml: origin_groups[0].failover_status_codes: expected a non-empty array of codes",
    ),
    (
        "group-codes-table",
        BASE
        + '[[origin_groups]]\nid = "g"\nprimary = "app"\nsecondary = "b"\nfailover_status_codes = [{a = 1}]\n',
        "failover_status_codes: {'a': 1} is not one of",
    ),
    (
        "group-id-clash",
        BASE + '[[origin_groups]]\nid = "app"\nprimary = "app"\nsecondary = "b"\n',
        "edgesim.toml: origin_groups[0].id: duplicate origin or group id 'app' (first declared at origins)",
    ),
    (
        "group-missing-secondary",
        BASE + '[[origin_groups]]\nid = "g"\nprimary = "app"\n',
        "edgesim.toml: origin_groups[0].secondary: is required",
    ),
    (
        "group-quota",
        ORIGIN + '[[origins]]\nid = "b"\nurl = "http://b"\n' + MANY_GROUPS + DEFAULT,
        "edgesim.toml: origin_groups: 11 origin groups; CloudFront allows 10",
    ),
    # [[kvs]]
    (
        "kvs-name",
        BASE + '[[kvs]]\nname = "my store"\n',
        "edgesim.toml: kvs[0].name: key value store name 'my store' must be 1-64 characters from A-Z a-z 0-9 - _",
    ),
    (
        "kvs-missing-data",
        BASE + '[[kvs]]\nname = "s"\ndata = "nope.json"\n',
        "edgesim.toml: kvs[0].data: seed file 'nope.json' does not exist (looked for ",
    ),
    (
        "kvs-bad-data",
        BASE + '[[kvs]]\nname = "s"\ndata = "bad.json"\n',
        "edgesim.toml: kvs[0].data: not a valid CloudFront KVS import file: ",
    ),
    (
        "kvs-duplicate",
        BASE + '[[kvs]]\nname = "s"\n[[kvs]]\nname = "s"\n',
        "edgesim.toml: kvs[1].name: duplicate key value store 's' (first declared at kvs[0])",
    ),
    (
        "kvs-missing-name",
        BASE + '[[kvs]]\ndata = "seed.json"\n',
        "edgesim.toml: kvs[0].name: is required",
    ),
    # [[functions]]
    (
        "function-missing-file-key",
        BASE + '[[functions]]\nname = "fn"\n',
        "edgesim.toml: functions[0].file: is required",
    ),
    (
        "function-missing-file",
        BASE + '[[functions]]\nname = "fn"\nfile = "missing.js"\n',
        "edgesim.toml: functions[0].file: function file 'missing.js' does not exist (looked for ",
    ),
    (
        "function-file-is-dir",
        BASE + '[[functions]]\nname = "fn"\nfile = "adir"\n',
        "edgesim.toml: functions[0].file: function file 'adir' is a directory",
    ),
    (
        "function-runtime",
        BASE + fn('runtime = "cloudfront-js-3.0"'),
        "edgesim.toml: functions[0].runtime: unknown runtime 'cloudfront-js-3.0' (did you mean 'cloudfront-js-2.0'?); use one of cloudfront-js-2.0, cloudfront-js-1.0",
    ),
    (
        "function-kvs-unknown",
        BASE + '[[kvs]]\nname = "config"\n' + fn('kvs = "cfg"'),
        "edgesim.toml: functions[0].kvs: unknown key value store 'cfg' (did you mean 'config'?)",
    ),
    (
        "function-kvs-runtime",
        BASE + '[[kvs]]\nname = "config"\n' + fn('kvs = "config"\nruntime = "cloudfront-js-1.0"'),
        "edgesim.toml: functions[0].kvs: a function using a key value store needs runtime 'cloudfront-js-2.0'",
    ),
    (
        "function-name",
        BASE + '[[functions]]\nname = "a.b"\nfile = "fn.js"\n',
        "edgesim.toml: functions[0].name: function name 'a.b' must be 1-64 characters",
    ),
    (
        "function-duplicate",
        BASE + fn() + fn(),
        "edgesim.toml: functions[1].name: duplicate function 'fn' (first declared at functions[0])",
    ),
    # [[cache_policies]]
    (
        "cache-headers-all",
        policy("cache_policies", 'headers = "all"'),
        "edgesim.toml: cache_policies[0].headers: headers behavior 'all' is not allowed here; allowed: none, whitelist",
    ),
    (
        "cache-headers-allexcept",
        policy("cache_policies", 'headers = { behavior = "allExcept", names = ["x"] }'),
        "edgesim.toml: cache_policies[0].headers.behavior: headers behavior 'allExcept' is not allowed here; allowed: none, whitelist",
    ),
    (
        "cache-whitelist-no-names",
        policy("cache_policies", 'cookies = { behavior = "whitelist" }'),
        "edgesim.toml: cache_policies[0].cookies.names: cookies behavior 'whitelist' needs a non-empty list of names",
    ),
    (
        "cache-all-with-names",
        policy("cache_policies", 'cookies = { behavior = "all", names = ["a"] }'),
        "edgesim.toml: cache_policies[0].cookies.names: cookies behavior 'all' takes no names",
    ),
    (
        "cache-allviewer",
        policy("cache_policies", 'query_strings = "allViewer"'),
        "edgesim.toml: cache_policies[0].query_strings: query_strings behavior 'allViewer' is not allowed here",
    ),
    (
        "cache-selection-typo",
        policy("cache_policies", 'cookies = { behaviour = "all" }'),
        "edgesim.toml: cache_policies[0].cookies.behaviour: unknown key (did you mean 'behavior'?); allowed keys: behavior, names",
    ),
    (
        "cache-selection-type",
        policy("cache_policies", "headers = 5"),
        'edgesim.toml: cache_policies[0].headers: expected "none", "all", an array of names or {behavior, names}, got 5',
    ),
    (
        "cache-header-name",
        policy("cache_policies", 'headers = ["a b"]'),
        "edgesim.toml: cache_policies[0].headers: 'a b' is not a valid header name",
    ),
    (
        "cache-names-not-strings",
        policy("cache_policies", "cookies = [1]"),
        "edgesim.toml: cache_policies[0].cookies[0]: expected a non-empty string, got integer 1",
    ),
    (
        "cache-orp-only-header",
        policy("cache_policies", 'headers = ["CloudFront-Viewer-Address"]'),
        "edgesim.toml: cache_policies[0].headers: 'cloudfront-viewer-address' can only be added by an origin request policy",
    ),
    (
        "cache-default-below-min",
        policy("cache_policies", "min_ttl = 10\ndefault_ttl = 5"),
        "edgesim.toml: cache_policies[0].default_ttl: 5 is below min_ttl (10)",
    ),
    (
        "cache-max-below-default",
        policy("cache_policies", "max_ttl = 3600"),
        "edgesim.toml: cache_policies[0].max_ttl: 3600 is below default_ttl (86400, its default; set default_ttl)",
    ),
    (
        "cache-max-below-min",
        policy("cache_policies", "min_ttl = 10\ndefault_ttl = 5\nmax_ttl = 1"),
        "edgesim.toml: cache_policies[0].max_ttl: 1 is below default_ttl (5)",
    ),
    (
        "cache-negative-ttl",
        policy("cache_policies", "min_ttl = -1"),
        "edgesim.toml: cache_policies[0].min_ttl: -1 is out of range (must be at least 0)",
    ),
    (
        "cache-managed-name",
        BASE + '[[cache_policies]]\nname = "Managed-CachingDisabled"\n',
        "edgesim.toml: cache_policies[0].name: 'Managed-CachingDisabled' is the name of a CloudFront managed policy; pick another",
    ),
    (
        "cache-duplicate",
        policy("cache_policies", "") + '[[cache_policies]]\nname = "p"\n',
        "edgesim.toml: cache_policies[1].name: duplicate policy name 'p' (first declared at cache_policies[0])",
    ),
    (
        "cache-gzip-type",
        policy("cache_policies", "enable_gzip = 1"),
        "edgesim.toml: cache_policies[0].enable_gzip: expected true or false, got integer 1",
    ),
    # [[origin_request_policies]]
    (
        "orp-authorization",
        policy("origin_request_policies", 'headers = ["Authorization"]'),
        "edgesim.toml: origin_request_policies[0].headers: 'authorization' cannot be in an origin request policy; add it to the cache policy instead (or use AllViewer)",
    ),
    (
        "orp-cloudfront-only",
        policy(
            "origin_request_policies",
            'headers = { behavior = "allViewerAndWhitelistCloudFront", names = ["X-A"] }',
        ),
        "edgesim.toml: origin_request_policies[0].headers.names: 'x-a' is not a CloudFront header",
    ),
    (
        "orp-cookies-allviewer",
        policy("origin_request_policies", 'cookies = "allViewer"'),
        "edgesim.toml: origin_request_policies[0].cookies: cookies behavior 'allViewer' is not allowed here; allowed: none, whitelist, all, allExcept",
    ),
    (
        "orp-managed-name",
        BASE + '[[origin_request_policies]]\nname = "allviewer"\n',
        "'allviewer' is the name of a CloudFront managed policy",
    ),
    (
        "orp-unknown-key",
        policy("origin_request_policies", "min_ttl = 1"),
        "edgesim.toml: origin_request_policies[0].min_ttl: unknown key; allowed keys: name, headers, cookies, query_strings",
    ),
    # [[response_headers_policies]]
    (
        "rhp-frame",
        rhp('security_headers = { frame_options = "ALLOW" }'),
        "edgesim.toml: response_headers_policies[0].security_headers.frame_options: 'ALLOW' is not one of DENY, SAMEORIGIN",
    ),
    (
        "rhp-referrer-table",
        rhp('security_headers = { referrer_policy = { value = "strict" } }'),
        "edgesim.toml: response_headers_policies[0].security_headers.referrer_policy.value: 'strict' is not one of no-referrer,",
    ),
    (
        "rhp-referrer-missing-value",
        rhp("security_headers = { referrer_policy = { override = true } }"),
        "edgesim.toml: response_headers_policies[0].security_headers.referrer_policy.value: is required",
    ),
    (
        "rhp-hsts-max-age",
        rhp("security_headers = { strict_transport_security = { preload = true } }"),
        "edgesim.toml: response_headers_policies[0].security_headers.strict_transport_security.max_age_s: is required",
    ),
    (
        "rhp-hsts-type",
        rhp("security_headers = { strict_transport_security = 60 }"),
        "edgesim.toml: response_headers_policies[0].security_headers.strict_transport_security: expected a table, got integer 60",
    ),
    (
        "rhp-xss-both",
        rhp(
            'security_headers = { xss_protection = { protection = true, mode_block = true, report_uri = "https://r" } }'
        ),
        "edgesim.toml: response_headers_policies[0].security_headers.xss_protection.report_uri: cannot be combined with mode_block",
    ),
    (
        "rhp-xss-off-mode",
        rhp("security_headers = { xss_protection = { protection = false, mode_block = true } }"),
        "edgesim.toml: response_headers_policies[0].security_headers.xss_protection.protection: mode_block and report_uri need protection = true",
    ),
    (
        "rhp-content-type",
        rhp('security_headers = { content_type_options = "yes" }'),
        "edgesim.toml: response_headers_policies[0].security_headers.content_type_options: expected true or false, got string 'yes'",
    ),
    (
        "rhp-security-typo",
        rhp('security_headers = { x_frame_options = "DENY" }'),
        "edgesim.toml: response_headers_policies[0].security_headers.x_frame_options: unknown key (did you mean 'frame_options'?)",
    ),
    (
        "rhp-cors-method",
        rhp('cors = { allow_methods = ["FETCH"] }'),
        "edgesim.toml: response_headers_policies[0].cors.allow_methods: 'FETCH' is not one of GET, POST, OPTIONS, PUT, DELETE, PATCH, HEAD, ALL",
    ),
    (
        "rhp-cors-all",
        rhp('cors = { allow_methods = ["ALL", "GET"] }'),
        "edgesim.toml: response_headers_policies[0].cors.allow_methods: 'ALL' cannot be combined with other methods",
    ),
    (
        "rhp-cors-origins",
        rhp("cors = { allow_origins = [] }"),
        "edgesim.toml: response_headers_policies[0].cors.allow_origins: must list at least one value",
    ),
    (
        "rhp-cors-max-age",
        rhp("cors = { max_age_s = -5 }"),
        "edgesim.toml: response_headers_policies[0].cors.max_age_s: -5 is out of range (must be at least 0)",
    ),
    (
        "rhp-cors-unknown",
        rhp("cors = { allow_credential = true }"),
        "edgesim.toml: response_headers_policies[0].cors.allow_credential: unknown key (did you mean 'allow_credentials'?)",
    ),
    (
        "rhp-custom-twice",
        rhp('custom_headers = { X-A = "1", x-a = "2" }'),
        "edgesim.toml: response_headers_policies[0].custom_headers: header 'x-a' is listed twice (header names ignore case)",
    ),
    (
        "rhp-custom-no-value",
        rhp("custom_headers = { X-A = { override = true } }"),
        "edgesim.toml: response_headers_policies[0].custom_headers.X-A.value: is required",
    ),
    (
        "rhp-custom-type",
        rhp("custom_headers = { X-A = 1 }"),
        "edgesim.toml: response_headers_policies[0].custom_headers.X-A: expected a string or {value, override}, got integer",
    ),
    (
        "rhp-custom-name",
        rhp('custom_headers = { "X A" = "1" }'),
        "edgesim.toml: response_headers_policies[0].custom_headers.X A: 'X A' is not a valid header name",
    ),
    (
        "rhp-remove-name",
        rhp('remove_headers = ["X A"]'),
        "edgesim.toml: response_headers_policies[0].remove_headers: 'X A' is not a valid header name",
    ),
    (
        "rhp-managed-name",
        BASE + '[[response_headers_policies]]\nname = "SimpleCORS"\n',
        "'SimpleCORS' is the name of a CloudFront managed policy",
    ),
    (
        "rhp-missing-name",
        BASE + "[[response_headers_policies]]\nremove_headers = []\n",
        "edgesim.toml: response_headers_policies[0].name: is required",
    ),
    # [[behaviors]] and [default_behavior]
    (
        "behavior-cache-policy",
        behavior('cache_policy = "CachingOptimised"'),
        "edgesim.toml: behaviors[0].cache_policy: unknown cache policy 'CachingOptimised' (did you mean 'CachingOptimized'?)",
    ),
    (
        "behavior-orp",
        behavior('origin_request_policy = "AllViewers"'),
        "edgesim.toml: behaviors[0].origin_request_policy: unknown origin request policy 'AllViewers' (did you mean 'AllViewer'?)",
    ),
    (
        "behavior-rhp",
        behavior('response_headers_policy = "SecurityHeaders"'),
        "edgesim.toml: behaviors[0].response_headers_policy: unknown response headers policy 'SecurityHeaders' (did you mean 'SecurityHeadersPolicy'?)",
    ),
    (
        "behavior-origin",
        BASE + '[[behaviors]]\npath = "/x"\norigin = "ap"\n',
        "edgesim.toml: behaviors[0].origin: unknown origin or origin group 'ap' (did you mean 'app'?)",
    ),
    (
        "behavior-function",
        behavior('viewer_request = "fnc"') + fn(),
        "edgesim.toml: behaviors[0].viewer_request: unknown function 'fnc' (did you mean 'fn'?)",
    ),
    (
        "behavior-response-function",
        behavior('viewer_response = "nope"'),
        "edgesim.toml: behaviors[0].viewer_response: unknown function 'nope'",
    ),
    (
        "behavior-path",
        BASE + '[[behaviors]]\npath = "/a b"\norigin = "app"\n',
        "edgesim.toml: behaviors[0].path: path pattern '/a b' contains ' '; allowed characters are",
    ),
    (
        "behavior-path-long",
        BASE + f'[[behaviors]]\npath = "/{"a" * 255}"\norigin = "app"\n',
        "edgesim.toml: behaviors[0].path: path pattern is 256 characters; CloudFront allows 255",
    ),
    (
        "behavior-duplicate-path",
        BASE
        + '[[behaviors]]\npath = "a*"\norigin = "app"\n[[behaviors]]\npath = "/a*"\norigin = "app"\n',
        "edgesim.toml: behaviors[1].path: pattern '/a*' repeats behaviors[0]; the later one could never match",
    ),
    (
        "behavior-missing-path",
        BASE + '[[behaviors]]\norigin = "app"\n',
        "edgesim.toml: behaviors[0].path: is required",
    ),
    (
        "behavior-missing-origin",
        BASE + '[[behaviors]]\npath = "/x"\n',
        "edgesim.toml: behaviors[0].origin: is required",
    ),
    (
        "behavior-methods",
        behavior('allowed_methods = ["GET", "POST"]'),
        "edgesim.toml: behaviors[0].allowed_methods: CloudFront allows only [GET, HEAD]; [GET, HEAD, OPTIONS] or all seven [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]",
    ),
    (
        "behavior-cached-options",
        behavior('cached_methods = ["GET", "HEAD", "OPTIONS"]'),
        "edgesim.toml: behaviors[0].cached_methods: OPTIONS can be cached only when allowed_methods includes it",
    ),
    (
        "behavior-cached-set",
        behavior('cached_methods = ["GET"]'),
        "edgesim.toml: behaviors[0].cached_methods: CloudFront allows only [GET, HEAD] or [GET, HEAD, OPTIONS]",
    ),
    (
        "behavior-protocol",
        behavior('viewer_protocol_policy = "https"'),
        "edgesim.toml: behaviors[0].viewer_protocol_policy: 'https' is not one of allow-all, redirect-to-https, https-only (did you mean 'https-only'?)",
    ),
    (
        "behavior-compress",
        behavior('compress = "yes"'),
        "edgesim.toml: behaviors[0].compress: expected true or false, got string 'yes'",
    ),
    (
        "behavior-unknown-key",
        behavior('target_origin = "app"'),
        "edgesim.toml: behaviors[0].target_origin: unknown key (did you mean 'origin'?); allowed keys: path, origin, viewer_request,",
    ),
    (
        "behavior-origin-event",
        behavior('function_associations = [{ event_type = "origin-request", function = "fn" }]')
        + fn(),
        "edgesim.toml: behaviors[0].function_associations[0].event_type: 'origin-request' is not one of viewer-request, viewer-response (origin events are Lambda@Edge only)",
    ),
    (
        "behavior-two-viewer-request",
        behavior(
            'viewer_request = "fn"\nfunction_associations = [{ event_type = "viewer-request", function = "fn" }]'
        )
        + fn(),
        "edgesim.toml: behaviors[0].function_associations[0]: a second viewer-request function; a behaviour has at most one",
    ),
    (
        "behavior-association-missing",
        behavior('function_associations = [{ event_type = "viewer-request" }]'),
        "edgesim.toml: behaviors[0].function_associations[0].function: is required",
    ),
    (
        "behavior-associations-type",
        behavior('function_associations = { event_type = "viewer-request" }'),
        "edgesim.toml: behaviors[0].function_associations: expected an array of tables ([[function_associations]]), got table",
    ),
    (
        "behavior-association-unknown-function",
        behavior('function_associations = [{ event_type = "viewer-response", function = "nope" }]'),
        "edgesim.toml: behaviors[0].function_associations: unknown function 'nope'",
    ),
    (
        "behavior-quota",
        BASE + MANY_BEHAVIORS,
        "edgesim.toml: behaviors: 76 cache behaviours; CloudFront allows 75",
    ),
    (
        "default-path",
        ORIGIN + '[default_behavior]\norigin = "app"\npath = "/*"\n',
        "edgesim.toml: default_behavior.path: the default behaviour always has the pattern '*'; remove it",
    ),
    (
        "default-missing-origin",
        ORIGIN + '[default_behavior]\ncache_policy = "CachingDisabled"\n',
        "edgesim.toml: default_behavior.origin: is required",
    ),
    (
        "default-unknown-policy",
        ORIGIN + '[default_behavior]\norigin = "app"\ncache_policy = "Optimized"\n',
        "edgesim.toml: default_behavior.cache_policy: unknown cache policy 'Optimized'",
    ),
    # [[custom_error_responses]]
    (
        "error-code",
        BASE + "[[custom_error_responses]]\nerror_code = 418\n",
        "edgesim.toml: custom_error_responses[0].error_code: 418 is not one of 400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504",
    ),
    (
        "error-code-type",
        BASE + '[[custom_error_responses]]\nerror_code = "404"\n',
        "edgesim.toml: custom_error_responses[0].error_code: expected an integer, got string '404'",
    ),
    (
        "error-page-alone",
        BASE + '[[custom_error_responses]]\nerror_code = 404\nresponse_page_path = "/404.html"\n',
        "edgesim.toml: custom_error_responses[0]: response_page_path and response_code go together: set both or neither",
    ),
    (
        "error-page-slash",
        BASE
        + '[[custom_error_responses]]\nerror_code = 404\nresponse_page_path = "404.html"\nresponse_code = 404\n',
        "edgesim.toml: custom_error_responses[0].response_page_path: '404.html' must start with '/'",
    ),
    (
        "error-response-code",
        BASE
        + '[[custom_error_responses]]\nerror_code = 404\nresponse_page_path = "/a"\nresponse_code = 201\n',
        "edgesim.toml: custom_error_responses[0].response_code: 201 is not one of 200, 400,",
    ),
    (
        "error-duplicate",
        BASE
        + "[[custom_error_responses]]\nerror_code = 404\n[[custom_error_responses]]\nerror_code = 404\n",
        "edgesim.toml: custom_error_responses[1].error_code: duplicate error code '404' (first declared at custom_error_responses[0])",
    ),
    (
        "error-code-negative",
        BASE + "[[custom_error_responses]]\nerror_code = -1\n",
        "edgesim.toml: custom_error_responses[0].error_code: -1 is not one of 400,",
    ),
    (
        "error-ttl",
        BASE + "[[custom_error_responses]]\nerror_code = 404\nerror_caching_min_ttl = -1\n",
        "edgesim.toml: custom_error_responses[0].error_caching_min_ttl: -1 is out of range (must be at least 0)",
    ),
    (
        "error-missing-code",
        BASE + "[[custom_error_responses]]\nerror_caching_min_ttl = 1\n",
        "edgesim.toml: custom_error_responses[0].error_code: is required",
    ),
    # [edges]
    (
        "edges-no-pops",
        BASE + "[edges]\npops = []\n",
        "edgesim.toml: edges.pops: must list at least one POP",
    ),
    (
        "edges-pop-case",
        BASE + '[edges]\npops = ["fra"]\n',
        "edgesim.toml: edges.pops: 'fra' is not a POP code like 'IAD' or 'FRA50' (did you mean 'FRA'?)",
    ),
    (
        "edges-pop-code",
        BASE + '[edges]\npops = ["Frankfurt"]\n',
        "edgesim.toml: edges.pops: 'Frankfurt' is not a POP code like 'IAD' or 'FRA50'",
    ),
    (
        "edges-pop-twice",
        BASE + '[edges]\npops = ["IAD", "IAD"]\n',
        "edgesim.toml: edges.pops: 'IAD' is listed twice",
    ),
    (
        "edges-pops-type",
        BASE + '[edges]\npops = "IAD"\n',
        "edgesim.toml: edges.pops: expected an array of strings, got string 'IAD'",
    ),
    (
        "edges-model",
        edges('propagation = { model = "gaussian" }'),
        "edgesim.toml: edges.propagation: model must be one of fixed, uniform, got 'gaussian'",
    ),
    (
        "edges-model-missing",
        edges("propagation = { lag_ms = 5 }"),
        "edgesim.toml: edges.propagation: model must be one of fixed, uniform, got None",
    ),
    (
        "edges-fixed-keys",
        edges('propagation = { model = "fixed", min_ms = 5 }'),
        "edgesim.toml: edges.propagation.min_ms: unknown key; allowed keys: model, lag_ms",
    ),
    (
        "edges-fixed-negative",
        edges('propagation = { model = "fixed", lag_ms = -5 }'),
        "edgesim.toml: edges.propagation.lag_ms: -5 is out of range (must be at least 0)",
    ),
    (
        "edges-uniform-order",
        edges('propagation = { model = "uniform", min_ms = 500, max_ms = 100 }'),
        "edgesim.toml: edges.propagation.max_ms: 100 is below min_ms (500)",
    ),
    (
        "edges-uniform-missing",
        edges('propagation = { model = "uniform", min_ms = 500 }'),
        "edgesim.toml: edges.propagation.max_ms: is required for the uniform model",
    ),
    (
        "edges-uniform-seed",
        edges('propagation = { model = "uniform", min_ms = 1, max_ms = 2, seed = "x" }'),
        "edgesim.toml: edges.propagation.seed: expected an integer, got string 'x'",
    ),
    (
        "edges-uniform-lag",
        edges('propagation = { model = "uniform", min_ms = 1, max_ms = 2, lag_ms = 3 }'),
        "edgesim.toml: edges.propagation.lag_ms: unknown key (did you mean 'max_ms'?); allowed keys: model, min_ms, max_ms, seed",
    ),
    (
        "edges-per-pop",
        edges("propagation_per_pop = { SYD = 100 }"),
        "edgesim.toml: edges.propagation_per_pop.SYD: POP 'SYD' is not in edges.pops",
    ),
    (
        "edges-per-pop-value",
        edges('propagation_per_pop = { FRA = "slow" }'),
        "edgesim.toml: edges.propagation_per_pop.FRA: expected a number, got string 'slow'",
    ),
    (
        "edges-per-pop-twice",
        edges(
            'propagation = { model = "fixed", lag_ms = 1, per_pop_ms = { FRA = 5 } }\npropagation_per_pop = { FRA = 100 }'
        ),
        "edgesim.toml: edges.propagation.per_pop_ms.FRA: POP 'FRA' already has a delay (set it in one place)",
    ),
    (
        "edges-per-pop-ms-pop",
        edges('propagation = { model = "fixed", lag_ms = 1, per_pop_ms = { SYD = 5 } }'),
        "edgesim.toml: edges.propagation.per_pop_ms.SYD: POP 'SYD' is not in edges.pops",
    ),
    (
        "edges-per-pop-ms-type",
        edges('propagation = { model = "fixed", lag_ms = 1, per_pop_ms = 5 }'),
        "edgesim.toml: edges.propagation.per_pop_ms: expected a table, got integer",
    ),
    (
        "edges-lag-inf",
        edges('propagation = { model = "fixed", lag_ms = inf }'),
        "edgesim.toml: edges.propagation.lag_ms: must be a finite number, not inf",
    ),
    (
        "edges-cidr",
        edges('pop_cidrs = { "10.0.0.1/8" = "FRA" }'),
        "edgesim.toml: edges.pop_cidrs.\"10.0.0.1/8\": '10.0.0.1/8' is not a network in CIDR notation: 10.0.0.1/8 has host bits set (did you mean '10.0.0.0/8'?)",
    ),
    (
        "edges-cidr-garbage",
        edges('pop_cidrs = { "lan" = "FRA" }'),
        "edgesim.toml: edges.pop_cidrs.\"lan\": 'lan' is not a network in CIDR notation",
    ),
    (
        "edges-cidr-pop",
        edges('pop_cidrs = { "10.0.0.0/8" = "FRAA" }'),
        "edgesim.toml: edges.pop_cidrs.\"10.0.0.0/8\": POP 'FRAA' is not in edges.pops (did you mean 'FRA'?)",
    ),
    (
        "edges-cidr-value",
        edges('pop_cidrs = { "10.0.0.0/8" = 1 }'),
        'edgesim.toml: edges.pop_cidrs."10.0.0.0/8": expected a string, got integer 1',
    ),
    (
        "edges-country-cidr",
        edges('country_cidrs = { "192.0.2.0/24" = "Germany" }'),
        "edgesim.toml: edges.country_cidrs.\"192.0.2.0/24\": 'Germany' is not an ISO 3166-1 alpha-2 country code like 'DE'",
    ),
    (
        "edges-country",
        edges('default_country = "usa"'),
        "edgesim.toml: edges.default_country: 'usa' is not an ISO 3166-1 alpha-2 country code",
    ),
    (
        "edges-geoip",
        edges('geoip_database = "GeoLite2-City.mmdb"'),
        "edgesim.toml: edges.geoip_database: GeoIP database 'GeoLite2-City.mmdb' does not exist",
    ),
    (
        "edges-unknown-key",
        edges("lag = 1"),
        "edgesim.toml: edges.lag: unknown key; allowed keys: pops, propagation,",
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_problem_is_named(project: Path, text: str, expected: str) -> None:
    message = problems_of(project, text)
    assert expected in message, message


def test_case_ids_are_unique() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


# -- robustness --------------------------------------------------------------------------------

_KEYS = sorted(
    {
        *config_module.TOP_LEVEL_KEYS,
        *config_module.SERVER_KEYS,
        *config_module.ORIGIN_KEYS,
        *config_module.BEHAVIOR_KEYS,
        *config_module.CACHE_POLICY_KEYS,
        *config_module.RESPONSE_HEADERS_POLICY_KEYS,
        *config_module.SECURITY_HEADER_KEYS,
        *config_module.CORS_KEYS,
        *config_module.EDGES_KEYS,
        *config_module.SELECTION_KEYS,
        *config_module.ASSOCIATION_KEYS,
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
