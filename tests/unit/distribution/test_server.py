"""[server]: listeners, ports, the domain name, the debug header, network origins."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.distribution.model import ServerSettings
from tests.unit.distribution.helpers import BASE, assert_problem, named_cases, parse

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
