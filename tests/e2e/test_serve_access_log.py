"""The access log in CloudFront's standard log fields, with what functions passed to
cf.logCustomData in viewer-request-log-data / viewer-response-log-data (URL-encoded, at most 800
bytes, "-" when unset), stamped with the edge clock."""

from __future__ import annotations

from tests.e2e.conftest import StartEdge

CONFIG = """access_log = "access.log"

[[origins]]
id = "app"
url = "{origin}"

[[functions]]
name = "tag"
file = "tag.js"

[[functions]]
name = "late"
file = "late.js"

[default_behavior]
origin = "app"
cache_policy = "CachingDisabled"
viewer_request = "tag"
viewer_response = "late"
"""

TAG_JS = """
import cf from 'cloudfront';
function handler(event) {
  if (event.request.uri === '/long') { cf.logCustomData('x'.repeat(2000)); }
  else if (event.request.uri !== '/quiet') { cf.logCustomData('user=\u00e4 b'); }
  return event.request;
}
"""

LATE_JS = """
import cf from 'cloudfront';
function handler(event) {
  if (event.request.uri === '/quiet') { cf.logCustomData('from response'); }
  return event.response;
}
"""


async def test_log_custom_data_lands_in_the_access_log(start_edge: StartEdge) -> None:
    edge = await start_edge(CONFIG, files={"tag.js": TAG_JS, "late.js": LATE_JS})
    for path in ("/tagged", "/long", "/quiet"):
        assert (await edge.get(path))[0] == 200
    await edge.server.stop()  # flushes and closes the log
    lines = (edge.config.parent / "access.log").read_text().splitlines()
    names = lines[1].removeprefix("#Fields: ").split()
    rows = [dict(zip(names, line.split("\t"), strict=True)) for line in lines[2:]]
    by_path = {row["cs-uri-stem"]: row for row in rows}
    assert by_path["/tagged"]["viewer-request-log-data"] == "user%3D%C3%A4%20b"
    assert by_path["/tagged"]["viewer-response-log-data"] == "-"
    assert by_path["/long"]["viewer-request-log-data"] == "x" * 800
    assert by_path["/quiet"]["viewer-request-log-data"] == "-"
    assert by_path["/quiet"]["viewer-response-log-data"] == "from%20response"
    day = edge.clock.wall().strftime("%Y-%m-%d")
    assert {row["date"] for row in rows} == {day}
