"""serve's clock, set through its admin API (``/clock``), ``edgesim clock`` and ``serve --now``:
everything in the edge that reads time follows it — functions' ``Date``, the ``Date`` header,
cache ages and expiry, KVS propagation, throttling, the access log and the inspector — and it
never goes back (issue 17, part 2)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from edgesim.app import EdgeServer
from edgesim.cli import main
from edgesim.controlplane.guard import TOKEN_HEADER
from edgesim.distribution.config import load_config
from tests.e2e.conftest import Origin, _Sink, _start_origin

LAUNCH_MS = 1_893_488_400_000  # 2030-01-01T09:00:00Z
LAUNCH = "2030-01-01T09:00:00.000Z"

NOW_JS = """
function handler(event) {
  return {
    statusCode: 200,
    body: JSON.stringify({ now: Date.now(), iso: new Date().toISOString() }),
  };
}
"""

FLAG_JS = """
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  let value;
  try { value = await kvs.get('mode'); } catch (err) { value = 'missing'; }
  return { statusCode: 200, headers: { 'x-mode': { value: value } } };
}
"""

LOOP_JS = "function handler(event) { while (true) {} }"

CONFIG = """
[[origins]]
id = "app"
url = "{origin}"

[[kvs]]
name = "flags"
data = "flags.json"

[[functions]]
name = "now"
file = "now.js"

[[functions]]
name = "flag"
file = "flag.js"
kvs = "flags"

[[functions]]
name = "loop"
file = "loop.js"

[default_behavior]
origin = "app"
cache_policy = "CachingOptimized"

[[behaviors]]
path = "/now"
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "now"

[[behaviors]]
path = "/flag"
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "flag"

[[behaviors]]
path = "/loop"
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "loop"

[edges]
pops = ["IAD"]
propagation = { model = "fixed", lag_ms = 5000 }

[throttling]
min_invocations = 2
window_s = 10
duration_s = 30
"""

FILES = {
    "now.js": NOW_JS,
    "flag.js": FLAG_JS,
    "loop.js": LOOP_JS,
    "flags.json": '{"data": [{"key": "mode", "value": "old"}]}',
}

FROZEN_AT_LAUNCH = 'now = "2030-01-01T09:00:00Z"\nfrozen = true\naccess_log = "access.log"\n'


@dataclass
class Served:
    server: EdgeServer
    origin: Origin
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.viewer_port}"

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.server.admin_port}"

    async def get(self, path: str, **headers: str) -> tuple[int, Any, bytes]:
        async with self.session.get(self.url + path, headers=headers) as response:
            return response.status, response.headers, await response.read()

    async def now(self) -> dict[str, Any]:
        """What the function at /now saw."""
        status, _, body = await self.get("/now")
        assert status == 200
        seen: dict[str, Any] = json.loads(body)
        return seen

    async def clock(self) -> dict[str, Any]:
        async with self.session.get(self.admin + "/clock") as response:
            assert response.status == 200
            doc: dict[str, Any] = await response.json()
            return doc

    async def move(self, body: object, **headers: str) -> tuple[int, dict[str, Any]]:
        data = body if isinstance(body, str) else json.dumps(body)
        async with self.session.post(self.admin + "/clock", data=data, headers=headers) as reply:
            return reply.status, await reply.json()


Start = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Start]:
    """``await serve(server_keys)``: the origin and serve as ``edgesim serve`` builds it (no clock
    injected: the one ``[server] now`` / ``frozen`` describe)."""
    started: list[tuple[web.AppRunner, EdgeServer, aiohttp.ClientSession]] = []

    async def start(server_keys: str = FROZEN_AT_LAUNCH) -> Served:
        runner, origin = await _start_origin()
        for name, text in FILES.items():
            (tmp_path / name).write_text(textwrap.dedent(text))
        config = tmp_path / "edgesim.toml"
        config.write_text(
            "[server]\nport = 0\nadmin_port = 0\nhttps = false\nephemeral = true\n"
            f'state_dir = "{tmp_path.as_posix()}"\n'
            + server_keys
            + CONFIG.replace("{origin}", origin.url)
        )
        server = EdgeServer(load_config(config), stream=_Sink())
        await server.start()
        session = aiohttp.ClientSession()
        started.append((runner, server, session))
        return Served(server, origin, session)

    yield start
    for runner, server, session in started:
        await session.close()
        await server.stop()
        await runner.cleanup()


async def test_serve_starts_where_the_config_says_and_functions_read_the_clock(
    serve: Start,
) -> None:
    edge = await serve()
    shown = await edge.clock()
    assert {k: shown[k] for k in ("now", "now_ms", "frozen")} == {
        "now": LAUNCH,
        "now_ms": LAUNCH_MS,
        "frozen": True,
    }
    # Clock minus real time, at the moment of the answer (a sanity bound, not a timing).
    assert abs(shown["offset_ms"] - (LAUNCH_MS - time.time() * 1000)) < 600_000
    assert await edge.now() == {"now": LAUNCH_MS, "iso": LAUNCH}
    _, headers, _ = await edge.get("/now")
    assert headers["Date"] == "Tue, 01 Jan 2030 09:00:00 GMT"  # the Date edgesim adds

    status, moved = await edge.move({"advance_ms": 90_000})
    assert (status, moved["now"], moved["now_ms"]) == (
        200,
        "2030-01-01T09:01:30.000Z",
        LAUNCH_MS + 90_000,
    )
    again = await edge.clock()  # POST answers what GET does (offset_ms: as of each answer)
    assert moved.keys() == again.keys() == {"now", "now_ms", "frozen", "offset_ms"}
    assert {**moved, "offset_ms": 0} == {**again, "offset_ms": 0}
    assert (await edge.now())["now"] == LAUNCH_MS + 90_000

    status, moved = await edge.move({"now": "2030-06-01T11:00:00+02:00"})
    assert (status, moved["now"]) == (200, "2030-06-01T09:00:00.000Z")
    seen = await edge.now()
    assert seen["iso"] == "2030-06-01T09:00:00.000Z"
    _, headers, _ = await edge.get("/now")
    assert headers["Date"] == "Sat, 01 Jun 2030 09:00:00 GMT"


async def test_a_request_the_parser_refuses_is_dated_by_the_clock(serve: Start) -> None:
    edge = await serve()
    reader, writer = await asyncio.open_connection("127.0.0.1", edge.server.viewer_port)
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    head = (await reader.read(65_536)).decode("latin-1")
    writer.close()
    assert " 400 Bad Request\r\n" in head
    assert "\r\nDate: Tue, 01 Jan 2030 09:00:00 GMT\r\n" in head


async def test_thawing_resumes_from_the_frozen_instant(serve: Start) -> None:
    edge = await serve()
    status, thawed = await edge.move({"frozen": False})
    assert status == 200
    assert thawed["frozen"] is False
    assert LAUNCH_MS <= thawed["now_ms"] < LAUNCH_MS + 60_000  # no jump to the real time
    first = (await edge.now())["now"]
    assert first >= thawed["now_ms"]
    status, frozen = await edge.move({"frozen": True})
    assert (status, frozen["frozen"]) == (200, True)
    assert frozen["now_ms"] >= first
    assert (await edge.now())["now"] == frozen["now_ms"] == (await edge.now())["now"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"now": "2029-12-31T23:59:59Z"}, "now"),  # earlier: the clock never goes back
        ({"now": "2030-01-01T09:00:00"}, "now"),  # no time zone
        ({"now": "soon"}, "now"),
        ({"now": 1893488400000}, "now"),
        ({"advance_ms": -1}, "advance_ms"),
        ({"advance_ms": 1.5}, "advance_ms"),
        ({"advance_ms": "90000"}, "advance_ms"),
        ({"advance_ms": True}, "advance_ms"),
        ({"advance_ms": 10**20}, "advance_ms"),  # past the year 9999
        ({"frozen": "yes"}, "frozen"),
        ({"speed": 2}, "speed"),
        ({"advance_ms": 1, "frozen": False}, "advance_ms, frozen"),
        ({}, None),
        ([{"advance_ms": 1}], None),
        ("{not json", None),
    ],
)
async def test_a_refused_move_says_which_field_and_leaves_the_clock_alone(
    serve: Start, body: object, field: str | None
) -> None:
    edge = await serve()
    before = await edge.clock()
    status, answer = await edge.move(body)
    assert status == 400
    assert answer["field"] == field
    if field is not None:
        assert answer["message"].startswith(f"{field}: ")
    assert (await edge.clock())["now_ms"] == before["now_ms"] == LAUNCH_MS
    assert (await edge.now())["now"] == LAUNCH_MS


async def test_cache_age_expiry_and_revalidation_follow_the_clock(serve: Start) -> None:
    edge = await serve()  # the origin answers max-age=60; /etag max-age=10 with an ETag
    assert (await edge.get("/page"))[1]["X-Cache"] == "Miss from cloudfront"
    await edge.move({"advance_ms": 42_000})
    _, headers, _ = await edge.get("/page")
    assert (headers["X-Cache"], headers["Age"]) == ("Hit from cloudfront", "42")
    await edge.move({"now": "2030-01-01T09:01:02Z"})  # 62 s after it was stored: expired
    assert (await edge.get("/page"))[1]["X-Cache"] == "Miss from cloudfront"

    assert (await edge.get("/etag"))[1]["X-Cache"] == "Miss from cloudfront"
    assert (await edge.get("/etag"))[1]["X-Cache"] == "Hit from cloudfront"
    await edge.move({"advance_ms": 11_000})
    assert (await edge.get("/etag"))[1]["X-Cache"] == "RefreshHit from cloudfront"
    assert edge.origin.seen[-1]["headers"]["if-none-match"] == '"v1"'


async def test_a_kvs_write_reaches_the_pop_when_the_clock_passes_its_lag(serve: Start) -> None:
    edge = await serve()  # IAD receives writes 5 s after them
    kvs = edge.server.kvs
    kvs.put_key("flags", "mode", "new", if_match=kvs.describe("flags").etag)
    for _ in range(3):  # frozen: real time passing changes nothing
        assert (await edge.get("/flag"))[1]["X-Mode"] == "old"
    await edge.move({"advance_ms": 4_999})
    assert (await edge.get("/flag"))[1]["X-Mode"] == "old"
    await edge.move({"advance_ms": 2})
    assert (await edge.get("/flag"))[1]["X-Mode"] == "new"


async def test_a_throttle_ends_when_the_clock_passes_its_duration(serve: Start) -> None:
    edge = await serve()  # [throttling]: 2 runs in 10 s, half over budget → 30 s
    seen = [(await edge.get("/loop"))[1]["X-Cache"] for _ in range(3)]
    assert seen == ["FunctionExecutionError from cloudfront"] * 2 + [
        "FunctionThrottledError from cloudfront"
    ]
    await edge.move({"advance_ms": 29_000})
    assert (await edge.get("/loop"))[1]["X-Cache"] == "FunctionThrottledError from cloudfront"
    await edge.move({"advance_ms": 1_000})
    assert (await edge.get("/loop"))[1]["X-Cache"] == "FunctionExecutionError from cloudfront"


async def test_the_access_log_and_the_inspector_show_the_clock(serve: Start) -> None:
    edge = await serve()
    await edge.move({"advance_ms": 3_600_000})
    await edge.get("/now")
    log = edge.server.dist.server.access_log
    assert log is not None
    edge.server.request_log.close()  # flushed
    fields = log.read_text().splitlines()[-1].split("\t")
    assert fields[:2] == ["2030-01-01", "10:00:00"]
    async with edge.session.get(edge.admin + "/inspector/api/info") as reply:
        info = await reply.json()
    assert info["now_ms"] == pytest.approx(LAUNCH_MS + 3_600_000, abs=1), await edge.clock()
    async with edge.session.get(edge.admin + "/inspector/api/flows") as reply:
        flows = await reply.json()
    times = [flow["time_ms"] for flow in _flows(flows)]
    assert times == [pytest.approx(LAUNCH_MS + 3_600_000, abs=1)]
    # Functions loaded at start-up (the launch instant); a reload now is an hour later.
    assert edge.server.reload_function_file(edge.server.dist.functions["now"].file)
    async with edge.session.get(edge.admin + "/inspector/api/functions") as reply:
        functions = {row["name"]: row for row in (await reply.json())["functions"]}
    assert functions["flag"]["loaded_at_ms"] == LAUNCH_MS
    assert functions["now"]["loaded_at_ms"] == LAUNCH_MS + 3_600_000
    assert functions["now"]["last_reload"]["at_ms"] == LAUNCH_MS + 3_600_000


def _flows(doc: Any) -> list[dict[str, Any]]:
    return list(doc["flows"] if isinstance(doc, dict) else doc)


async def test_browsers_move_the_clock_only_from_the_inspector_with_its_token(
    serve: Start,
) -> None:
    edge = await serve()
    status, _ = await edge.move({"advance_ms": 1}, Origin="http://attacker.example")
    assert status == 403
    status, _ = await edge.move({"advance_ms": 1}, Host="attacker.example")
    assert status == 403
    own = {"Origin": edge.admin, "Sec-Fetch-Site": "same-origin"}
    status, _ = await edge.move({"advance_ms": 1}, **own)
    assert status == 403  # no token
    assert (await edge.clock())["now_ms"] == LAUNCH_MS
    status, moved = await edge.move({"advance_ms": 1}, **own, **{TOKEN_HEADER: edge.server.token})
    assert (status, moved["now_ms"]) == (200, LAUNCH_MS + 1)


async def _edgesim(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``edgesim ARGS`` as the entry point runs it, in a thread (serve answers on this loop)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def test_edgesim_clock_moves_a_running_serve(
    serve: Start, capsys: pytest.CaptureFixture[str]
) -> None:
    edge = await serve()
    code, out, err = await _edgesim(capsys, "clock", "advance", "90s", "--endpoint", edge.admin)
    assert (code, err) == (0, "")
    assert out.startswith("2030-01-01T09:01:30.000Z (frozen; ")
    assert (await edge.now())["now"] == LAUNCH_MS + 90_000

    code, out, err = await _edgesim(
        capsys, "clock", "--endpoint", edge.admin, "set", "2030-01-01T09:00:00Z"
    )
    assert code == 2
    assert "now: 2030-01-01T09:00:00.000Z is earlier than the clock" in err
    assert "Traceback" not in err
    code, _, err = await _edgesim(capsys, "clock", "advance", "1.5h", "--endpoint", edge.admin)
    assert code == 2
    assert "advance '1.5h': expected an integer and one unit" in err
    assert (await edge.clock())["now_ms"] == LAUNCH_MS + 90_000

    code, out, _ = await _edgesim(capsys, "clock", "thaw", "--json", "--endpoint", edge.admin)
    assert code == 0
    assert json.loads(out)["frozen"] is False


CLI_CONFIG = """
[server]
port = 0
admin_port = 0
https = false
ephemeral = true

[[origins]]
id = "app"
url = "http://127.0.0.1:9"

[default_behavior]
origin = "app"
"""


async def test_serve_now_and_frozen_flags(tmp_path: Path) -> None:
    config = tmp_path / "edgesim.toml"
    config.write_text(CLI_CONFIG)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "edgesim", "serve", "--config", str(config), "--no-reload",
        "--now", "2030-01-01T10:00:00+01:00", "--frozen",
        stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        lines = []
        while not any("event loop:" in line for line in lines):
            line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
            assert line, "serve stopped: " + "".join(lines)
            lines.append(line)
        assert (
            f"edgesim: clock: {LAUNCH}, frozen (move it with `edgesim clock` or POST /clock)\n"
            in lines
        )
        admin = re.search(r"admin \(KVS API, /status, /metrics\): (http://\S+)", "".join(lines))
        assert admin is not None
        async with aiohttp.ClientSession() as session, session.get(admin[1] + "/clock") as reply:
            shown = await reply.json()
        assert (shown["now_ms"], shown["frozen"]) == (LAUNCH_MS, True)
    finally:
        process.terminate()
        await process.wait()


def test_a_bad_clock_start_stops_serve_with_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "edgesim.toml"
    config.write_text(
        CLI_CONFIG.replace("ephemeral = true", "ephemeral = true\nnow = 2030-01-01T09:00:00")
    )
    assert main(["serve", "--config", str(config), "--no-reload"]) == 2
    err = capsys.readouterr().err
    assert "edgesim.toml: server.now: 2030-01-01T09:00:00 has no time zone" in err
    assert "Traceback" not in err
    config.write_text(CLI_CONFIG)
    assert main(["serve", "--config", str(config), "--now", "launch day"]) == 2
    assert "--now: 'launch day' is not an ISO-8601 time" in capsys.readouterr().err
