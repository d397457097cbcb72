"""[server]: listeners, ports, the domain name, the debug header, network origins."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.distribution.model import ServerSettings
from tests.unit.distribution.helpers import BASE, assert_problem, named_cases, parse, problems_of

CASES = named_cases(
    [
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
            "server-debug-headers",
            '[server]\ndebug_headers = "on"\n' + BASE,
            "edgesim.toml: server.debug_headers: expected true or false, got string 'on'",
        ),
        (
            "server-network-origins",
            "[server]\nnetwork_origins = 1\n" + BASE,
            "edgesim.toml: server.network_origins: expected true or false, got integer 1",
        ),
        (
            "server-debug-header-singular",
            "[server]\ndebug_header = true\n" + BASE,
            "edgesim.toml: server.debug_header: unknown key (did you mean 'debug_headers'?)",
        ),
        (
            "server-empty-host",
            '[server]\nhost = ""\n' + BASE,
            "edgesim.toml: server.host: must not be empty",
        ),
        (
            "server-https-type",
            '[server]\nhttps = "no"\n' + BASE,
            "edgesim.toml: server.https: expected true or false, got string 'no'",
        ),
        (
            "server-https-port-type",
            '[server]\nhttps_port = "8443"\n' + BASE,
            "edgesim.toml: server.https_port: expected an integer, got string '8443'",
        ),
        (
            "server-https-port-float",
            "[server]\nhttps_port = 8443.0\n" + BASE,
            "edgesim.toml: server.https_port: expected an integer, got float 8443.0",
        ),
        (
            "server-https-port-range",
            "[server]\nhttps_port = 65536\n" + BASE,
            "edgesim.toml: server.https_port: 65536 is out of range (allowed: 0 to 65535)",
        ),
        (
            "server-https-port-negative",
            "[server]\nhttps_port = -1\n" + BASE,
            "edgesim.toml: server.https_port: -1 is out of range (allowed: 0 to 65535)",
        ),
        (
            "server-https-port-is-port",
            "[server]\nport = 9000\nhttps_port = 9000\n" + BASE,
            "edgesim.toml: server.https_port: must differ from port (9000)",
        ),
        (
            "server-https-port-is-admin-port",
            "[server]\nhttps_port = 8081\n" + BASE,
            "edgesim.toml: server.https_port: must differ from admin_port (8081)",
        ),
        (
            "server-https-port-default-is-port",
            "[server]\nport = 8443\n" + BASE,
            "edgesim.toml: server.https_port: the default, 8443, is port's too; "
            "set https_port to another port (0: a free one) or https = false",
        ),
        (
            "server-https-port-typo",
            "[server]\nhttp_port = 8443\n" + BASE,
            "edgesim.toml: server.http_port: unknown key (did you mean 'https_port'?)",
        ),
        (
            "server-admin-hosts-port",
            '[server]\nadmin_allowed_hosts = ["edgesim:8081"]\n' + BASE,
            "edgesim.toml: server.admin_allowed_hosts[0]: 'edgesim:8081': give the name without a port",
        ),
        (
            "server-admin-hosts-not-a-name",
            '[server]\nadmin_allowed_hosts = ["ok.example", "not a name"]\n' + BASE,
            "edgesim.toml: server.admin_allowed_hosts[1]: 'not a name' is not a host name",
        ),
        (
            "server-admin-hosts-type",
            '[server]\nadmin_allowed_hosts = "edgesim"\n' + BASE,
            "edgesim.toml: server.admin_allowed_hosts: expected an array of strings, got string 'edgesim'",
        ),
        (
            "server-keepalive-zero",
            "[server]\nkeepalive_timeout_s = 0\n" + BASE,
            "edgesim.toml: server.keepalive_timeout_s: 0 is out of range",
        ),
        (
            "server-keepalive-inf",
            "[server]\nkeepalive_timeout_s = inf\n" + BASE,
            "edgesim.toml: server.keepalive_timeout_s: must be a finite number, not inf",
        ),
        (
            "server-keepalive-text",
            '[server]\nkeepalive_timeout_s = "60s"\n' + BASE,
            "edgesim.toml: server.keepalive_timeout_s: expected a number, got string '60s'",
        ),
    ]
)


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_problem_is_named(project: Path, text: str, expected: str) -> None:
    assert_problem(project, text, expected)


def test_debug_headers_and_network_origins_are_off_unless_turned_on(project: Path) -> None:
    assert parse(project, BASE).server == ServerSettings(state_dir=project / ".edgesim")
    on = parse(project, "[server]\ndebug_headers = true\nnetwork_origins = true\n" + BASE).server
    assert (on.debug_headers, on.network_origins) == (True, True)
    off = parse(project, "[server]\ndebug_headers = false\n" + BASE).server
    assert (off.debug_headers, off.network_origins) == (False, False)


def test_keepalive_timeout_is_sixty_seconds_unless_set(project: Path) -> None:
    assert parse(project, BASE).server.keepalive_timeout_s == 60.0
    assert (
        parse(project, "[server]\nkeepalive_timeout_s = 5\n" + BASE).server.keepalive_timeout_s
        == 5.0
    )


def test_admin_allowed_hosts_are_lower_cased_names(project: Path) -> None:
    assert parse(project, BASE).server.admin_allowed_hosts == ()
    text = '[server]\nadmin_allowed_hosts = ["Edgesim", "*.Dev.Example"]\n' + BASE
    assert parse(project, text).server.admin_allowed_hosts == ("edgesim", "*.dev.example")


def test_inspector_settings(project: Path) -> None:
    server = parse(project, BASE).server
    assert (server.inspector, server.inspector_flows, server.inspector_body_bytes) == (
        True,
        1_000,
        4_096,
    )
    text = "[server]\ninspector = false\ninspector_flows = 50\ninspector_body_bytes = 0\n" + BASE
    server = parse(project, text).server
    assert (server.inspector, server.inspector_flows, server.inspector_body_bytes) == (False, 50, 0)
    assert_problem(
        project,
        "[server]\ninspector_flows = 0\n" + BASE,
        "edgesim.toml: server.inspector_flows: 0 is out of range (allowed: 1 to 100000)",
    )


def test_https_is_on_by_default_on_8443(project: Path) -> None:
    server = parse(project, BASE).server
    assert (server.https, server.https_port) == (True, 8443)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https = false\n", (False, 8443)),
        ("https = true\nhttps_port = 9443\n", (True, 9443)),
        ("https_port = 0\n", (True, 0)),
        ("https_port = 65535\n", (True, 65535)),
        # 0 is "a free port" for each listener, so they may all say 0.
        ("port = 0\nadmin_port = 0\nhttps_port = 0\n", (True, 0)),
        # An HTTPS port that is not used cannot clash.
        ("https = false\nhttps_port = 8080\n", (False, 8080)),
        ("https = false\nport = 8443\n", (False, 8443)),
    ],
)
def test_https_accepted_values(project: Path, text: str, expected: tuple[bool, int]) -> None:
    server = parse(project, "[server]\n" + text + BASE).server
    assert (server.https, server.https_port) == expected


def test_https_port_clashing_with_both_ports_names_both(project: Path) -> None:
    message = problems_of(
        project, "[server]\nport = 9000\nadmin_port = 9000\nhttps_port = 9000\n" + BASE
    )
    assert "server.admin_port: must differ from port (9000)" in message
    assert "server.https_port: must differ from port (9000)" in message
    assert "server.https_port: must differ from admin_port (9000)" in message
