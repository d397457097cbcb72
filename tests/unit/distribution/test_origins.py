"""[[origins]] and [[origin_groups]]: URLs, paths, custom headers, timeouts, failover groups;
[origins_local]: origin ids and domain names mapped to local URLs and directories."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.distribution.config import load_config, parse_config
from edgesim.distribution.model import LocalOrigin, S3Access
from edgesim.distribution.origins import local_origin
from edgesim.errors import InputError
from tests.unit.distribution.helpers import (
    BASE,
    DEFAULT,
    ORIGIN,
    assert_problem,
    named_cases,
    parse,
    problems_of,
)


def origin_with(extra: str) -> str:
    return ORIGIN + extra + "\n" + DEFAULT


MANY_GROUPS = "".join(
    f'[[origin_groups]]\nid = "g{i}"\nprimary = "app"\nsecondary = "b"\n' for i in range(11)
)

CASES = named_cases(
    [
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
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_problem_is_named(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)


# -- [origins_local] ---------------------------------------------------------------------------

TWO_ORIGINS_AND_A_GROUP = (
    ORIGIN
    + '[[origins]]\nid = "b"\nurl = "http://b.example.com"\n'
    + '[[origin_groups]]\nid = "ha"\nprimary = "app"\nsecondary = "b"\n'
    + DEFAULT
)


def local(body: str) -> str:
    return TWO_ORIGINS_AND_A_GROUP + "[origins_local]\n" + body + "\n"


LOCAL_CASES = named_cases(
    [
        (
            "local-not-table",
            'origins_local = "http://127.0.0.1:9000"\n' + BASE,
            "edgesim.toml: origins_local: expected a table ([origins_local]), got string",
        ),
        (
            "local-key-neither",
            local('apo = "http://127.0.0.1:9000"'),
            "edgesim.toml: origins_local.apo: 'apo' is neither an origin id nor a domain name such as 'api.example.com' (did you mean 'app'?); origin ids: app, b",
        ),
        (
            "local-key-ip",
            local('"10.0.0.1" = "http://127.0.0.1:9000"'),
            "edgesim.toml: origins_local.\"10.0.0.1\": '10.0.0.1' is neither an origin id nor a domain name such as 'api.example.com'; origin ids: app, b",
        ),
        (
            "local-key-bad-domain",
            local('"api..example.com" = "http://127.0.0.1:9000"'),
            "edgesim.toml: origins_local.\"api..example.com\": 'api..example.com' is neither an origin id nor a domain name",
        ),
        (
            "local-key-group",
            local('ha = "http://127.0.0.1:9000"'),
            "edgesim.toml: origins_local.ha: 'ha' is an origin group; map its origins ('app' and 'b') instead",
        ),
        (
            "local-value-type",
            local("app = 9000"),
            "edgesim.toml: origins_local.app: expected a URL or a directory (a string, or a table "
            "with url, dir or regions), got integer 9000",
        ),
        (
            "local-table-url-with-region",
            local('app = { url = "http://127.0.0.1:9000", region = "us-east-1" }'),
            "edgesim.toml: origins_local.app: region and credentials belong to a directory (dir or regions)",
        ),
        (
            "local-table-two-forms",
            local('app = { url = "http://127.0.0.1:9000", dir = "." }'),
            "edgesim.toml: origins_local.app: a table needs exactly one of url, dir and regions",
        ),
        (
            "local-table-unknown-key",
            local('app = { dir = ".", bucket = "x" }'),
            "edgesim.toml: origins_local.app: unknown key 'bucket' (expected: url, dir, regions, region, credentials)",
        ),
        (
            "local-table-bad-region",
            local('app = { dir = ".", region = "Europe" }'),
            "edgesim.toml: origins_local.app: region: 'Europe' is not an AWS region name such as 'eu-west-1'",
        ),
        (
            "local-table-half-credentials",
            local('app = { dir = ".", credentials = { access_key_id = "AKID" } }'),
            "edgesim.toml: origins_local.app: credentials: needs access_key_id and secret_access_key",
        ),
        (
            "local-value-empty",
            local('app = " "'),
            "edgesim.toml: origins_local.app: expected a URL or a directory, got an empty string",
        ),
        (
            "local-url-scheme",
            local('"api.example.com" = "s3://bucket"'),
            "edgesim.toml: origins_local.\"api.example.com\": 's3://bucket': the scheme must be http or https",
        ),
        (
            "local-url-no-host",
            local('app = "http://:9000"'),
            "edgesim.toml: origins_local.app: 'http://:9000': the host is missing",
        ),
        (
            "local-url-path",
            local('app = "http://127.0.0.1:9000/v1"'),
            "edgesim.toml: origins_local.app: 'http://127.0.0.1:9000/v1': a local URL has no path (the origin's origin_path is still added)",
        ),
        (
            "local-url-query",
            local('app = "http://127.0.0.1:9000/?a=1"'),
            "edgesim.toml: origins_local.app: 'http://127.0.0.1:9000/?a=1': a local URL has no query string or fragment",
        ),
        (
            "local-url-port",
            local('app = "http://127.0.0.1:99999"'),
            "edgesim.toml: origins_local.app: 'http://127.0.0.1:99999' is not a valid URL: Port out of range 0-65535",
        ),
        (
            "local-url-user",
            local('app = "http://u:p@127.0.0.1"'),
            "edgesim.toml: origins_local.app: 'http://u:p@127.0.0.1': user information is not allowed",
        ),
        (
            "local-host-port",
            local('app = "127.0.0.1:9000"'),
            "edgesim.toml: origins_local.app: '127.0.0.1:9000' is neither a URL nor a directory (did you mean 'http://127.0.0.1:9000'?)",
        ),
        (
            "local-same-domain",
            local('"api.example.com" = "adir"\n"API.Example.com." = "adir"'),
            'edgesim.toml: origins_local."API.Example.com.": the same domain as origins_local."api.example.com" (domain names ignore case)',
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), LOCAL_CASES)
def test_local_origin_problem_is_named(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)


def test_local_table_forms_read_directories_regions_and_credentials(project: Path) -> None:
    for name in ("eu", "us"):
        (project / name).mkdir()
    creds = 'credentials = { access_key_id = "AKID", secret_access_key = "s3cr3t" }'
    text = local(
        f'app = {{ dir = "eu", region = "eu-west-1", {creds} }}\n'
        f'b = {{ url = "http://127.0.0.1:9000" }}\n'
        f'"m.mrap.accesspoint.s3-global.amazonaws.com" = '
        f'{{ regions = {{ "us-east-1" = "us", "eu-west-1" = "eu" }}, {creds} }}'
    )
    (project / "edgesim.toml").write_text(text)
    dist = load_config(project / "edgesim.toml")
    app = dist.origins_local["app"]
    assert app.directory == (project / "eu").resolve()
    assert app.access == S3Access("eu-west-1", (("AKID", "s3cr3t"),))
    assert dist.origins_local["b"].url == "http://127.0.0.1:9000"
    mrap = dist.origins_local["m.mrap.accesspoint.s3-global.amazonaws.com"]
    assert mrap.regions == (
        ("us-east-1", (project / "us").resolve()),
        ("eu-west-1", (project / "eu").resolve()),
    )
    assert mrap.access is not None
    assert mrap.access.credentials == (("AKID", "s3cr3t"),)
    missing = local('app = { regions = { "us-east-1" = "nowhere" } }')
    assert_problem(
        project,
        missing,
        f"edgesim.toml: origins_local.app: regions.us-east-1: {project / 'nowhere'} does not "
        "exist (expected a directory)",
    )


def test_a_local_directory_must_exist_and_be_a_directory(project: Path) -> None:
    text = local('app = "missing"\n"static.example.com" = "fn.js"')
    assert problems_of(project, text).splitlines()[1:] == [
        "edgesim.toml: origins_local.app: 'missing' is neither a URL (http:// or https://) nor "
        f"a directory: {project / 'missing'} does not exist",
        "edgesim.toml: origins_local.\"static.example.com\": 'fn.js' is neither a URL (http:// or "
        f"https://) nor a directory: {project / 'fn.js'} is a file",
    ]


def test_local_origins_map_ids_and_domains_to_urls_and_directories(project: Path) -> None:
    text = local(
        'app = "HTTP://127.0.0.1:9000/"\n'
        '"API.example.com" = "https://localhost:8443"\n'
        '"assets.example.com." = "adir"\n'
        f'"static.example.com" = "{project / "adir"}"'
    )
    dist = parse(project, text)
    assert dist.origins_local == {
        "app": LocalOrigin("app", url="http://127.0.0.1:9000"),
        "api.example.com": LocalOrigin("API.example.com", url="https://localhost:8443"),
        "assets.example.com": LocalOrigin("assets.example.com.", directory=project / "adir"),
        "static.example.com": LocalOrigin("static.example.com", directory=project / "adir"),
    }


def test_no_origins_local_table_maps_nothing(project: Path) -> None:
    assert parse(project, BASE).origins_local == {}


def test_local_directories_are_relative_to_the_config_directory(project: Path) -> None:
    (project / "sub").mkdir()
    dist = parse_config(
        tomllib.loads(local('app = "../adir"')), base_dir=project / "sub", source="edgesim.toml"
    )
    assert dist.origins_local["app"].directory == project / "adir"


@given(
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9](\.[a-z][a-z0-9]{0,10}){1,3}", fullmatch=True),
    port=st.integers(1, 65_535),
    scheme=st.sampled_from(["http", "https"]),
    slash=st.booleans(),
)
def test_any_http_url_of_a_host_and_port_is_kept_as_scheme_host_port(
    host: str, port: int, scheme: str, slash: bool
) -> None:
    url = f"{scheme}://{host}:{port}"
    entry = local_origin(
        host, url + ("/" if slash else ""), base_dir=Path("/"), origins={}, groups={}
    )
    assert entry == LocalOrigin(host, url=url)


def test_local_origin_reports_without_a_place_for_the_command_line(project: Path) -> None:
    with pytest.raises(InputError) as info:
        local_origin("x", "ftp://h", base_dir=project, origins={}, groups={})
    assert str(info.value) == (
        "'x' is neither an origin id nor a domain name such as 'api.example.com'"
    )


@pytest.mark.parametrize(
    ("extra", "s3"),
    [('type = "s3"', True), ('type = "custom"', False), ("s3 = true", True), ("", False)],
)
def test_an_origin_is_s3_by_type_or_flag(tmp_path: Path, extra: str, s3: bool) -> None:
    # type = "s3" (issue 18's spelling) and s3 = true say the same: origin.s3 in a lambda's event.
    assert parse(tmp_path, origin_with(extra)).origins["app"].s3 is s3


@pytest.mark.parametrize(
    ("url", "s3"),
    [
        ("https://media.s3.us-east-1.amazonaws.com", True),
        ("https://media.s3.amazonaws.com", True),
        ("https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com", True),
        ("http://media.s3-website-us-east-1.amazonaws.com", False),  # a website endpoint
        ("http://127.0.0.1:3000", False),
        ("http://[::1]:3000", False),
    ],
)
def test_an_s3_endpoint_is_an_s3_origin_unless_said_otherwise(
    tmp_path: Path, url: str, s3: bool
) -> None:
    text = f'[[origins]]\nid = "app"\nurl = "{url}"\n' + DEFAULT
    assert parse(tmp_path, text).origins["app"].s3 is s3
    said = f'[[origins]]\nid = "app"\nurl = "{url}"\ntype = "custom"\n' + DEFAULT
    assert parse(tmp_path, said).origins["app"].s3 is False


def test_a_malformed_url_is_one_problem_not_a_crash(tmp_path: Path) -> None:
    # Found by the config fuzzer: the S3-endpoint test read the URL before it was checked.
    assert "origins[0].url" in problems_of(
        tmp_path, origin_with("").replace("http://127.0.0.1:3000", "http://[::1")
    )


def test_an_origin_type_that_is_unknown_or_contradicts_s3_is_refused(tmp_path: Path) -> None:
    unknown = problems_of(tmp_path, origin_with('type = "ftp"'))
    assert "origins[0].type: 'ftp' is not one of custom, s3" in unknown
    both = problems_of(tmp_path, origin_with('type = "custom"\ns3 = true'))
    assert "origins[0].s3: contradicts type = 'custom'" in both
