"""The assembled serve (edgesim/app.py): the start-up banner names the settings that change what
a developer sees, and the one clock reaches every part."""

from __future__ import annotations

import io
import tomllib
from dataclasses import replace
from pathlib import Path

from edgesim.app import EdgeServer
from edgesim.distribution.config import parse_config
from edgesim.kvs.clock import VirtualClock

BASE = """
[server]
ephemeral = true

[[origins]]
id = "app"
url = "http://127.0.0.1:3000"

[default_behavior]
origin = "app"
"""


def server_for(tmp_path: Path, extra: str = "", **kwargs: object) -> EdgeServer:
    dist = parse_config(tomllib.loads(BASE + extra), base_dir=tmp_path, source="edgesim.toml")
    return EdgeServer(dist, stream=io.StringIO(), **kwargs)  # type: ignore[arg-type]


def test_banner_shows_the_default_propagation_lag_and_the_way_back(tmp_path: Path) -> None:
    server = server_for(tmp_path)
    try:
        banner = "\n".join(server.banner())
    finally:
        server.kvs.close()
    assert "kvs propagation: each POP 2000–10000 ms after a write (seed 0)" in banner
    assert 'propagation = { model = "fixed", lag_ms = 0 }' in banner
    assert "throttling: 10+ runs in 10 s, 50% over budget → 30 s" in banner


def test_banner_names_instant_propagation_disabled_throttling_and_local_origins(
    tmp_path: Path,
) -> None:
    extra = """
[edges]
propagation = { model = "fixed", lag_ms = 0 }

[throttling]
enabled = false

[origins_local]
"api.example.com" = "http://127.0.0.1:9000"
"""
    server = server_for(tmp_path, extra)
    try:
        banner = server.banner()
    finally:
        server.kvs.close()
    assert "kvs propagation: instant" in banner
    assert "throttling: off" in banner
    assert "origin api.example.com → http://127.0.0.1:9000" in banner


def test_one_clock_for_cache_functions_and_kvs(tmp_path: Path) -> None:
    clock = VirtualClock()
    server = server_for(tmp_path, clock=clock)
    try:
        assert server.kvs.clock is clock
        assert server.proxy.clock is clock
        clock.advance(5)
        assert server.cache.clock() == clock.monotonic() == 5
    finally:
        server.kvs.close()


def test_banner_links_the_inspector_on_a_name_the_admin_port_answers_to(tmp_path: Path) -> None:
    server = server_for(tmp_path)
    try:
        server.admin_port = 8081
        assert "inspector: http://127.0.0.1:8081/" in server.banner()
        # Bound to every address (the container): the link uses loopback, which is allowed.
        dist = server.dist
        server.proxy.state.dist = replace(dist, server=replace(dist.server, host="0.0.0.0"))
        assert server.inspector_url == "http://127.0.0.1:8081/"
    finally:
        server.kvs.close()


def test_inspector_settings_come_from_server_keys_unless_given(tmp_path: Path) -> None:
    keys = "inspector = false\ninspector_flows = 50\ninspector_body_bytes = 7\n"
    text = BASE.replace("ephemeral = true\n", "ephemeral = true\n" + keys)
    dist = parse_config(tomllib.loads(text), base_dir=tmp_path, source="edgesim.toml")
    server = EdgeServer(dist, stream=io.StringIO())
    try:
        capture = server.capture
        assert (capture.enabled, capture.flows.maxlen, capture.body_limit) == (False, 50, 7)
    finally:
        server.kvs.close()
    server = server_for(tmp_path, capture=True, capture_flows=3)  # arguments win
    try:
        assert (server.capture.enabled, server.capture.flows.maxlen) == (True, 3)
        assert server.capture.body_limit == 4_096
    finally:
        server.kvs.close()


def test_record_attaches_a_traffic_recorder_named_in_the_banner(tmp_path: Path) -> None:
    recording = tmp_path / "traffic.jsonl"
    server = server_for(tmp_path, record=recording)
    try:
        assert server.recorder is not None
        assert server.recorder in server.proxy.observers
        assert f"recording viewer requests to {recording}" in "\n".join(server.banner())
    finally:
        if server.recorder is not None:
            server.recorder.close()
        server.kvs.close()
    plain = server_for(tmp_path)
    try:
        assert plain.recorder is None
    finally:
        plain.kvs.close()


def test_a_note_printed_after_a_request_comes_after_its_line(tmp_path: Path) -> None:
    # The request log holds its lines until the loop turns; a note serve prints meanwhile (a
    # reload, a worker restart) must not jump ahead of the requests that finished before it.
    import asyncio

    from edgesim.edge.flow import Flow, XCache, generated
    from edgesim.edge.message import EdgeRequest

    server = server_for(tmp_path)
    flow = Flow(EdgeRequest("GET", "/before", None, [], pop="IAD"), server.dist, "rid", 0.0)
    flow.response = generated(200, "ok", XCache.MISS)
    flow.response_started = True

    async def turn() -> None:
        server.request_log.flow_finished(flow)
        server.say("function fn: reloaded")

    asyncio.run(turn())
    console = server.stream.getvalue()  # type: ignore[union-attr]
    assert console.index("GET /before") < console.index("function fn: reloaded")
