"""Which headers a function reads: found in its source, so that a rehearsal on an access log
names the decisions the log cannot show."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgesim.rehearse import rehearse
from edgesim.rehearse.inputs import headers_read
from tests.unit.rehearse.traffic_gen import CONFIG, FIXTURES, ROOT


@pytest.mark.parametrize(
    ("code", "names"),
    [
        ("var c = request.headers['CloudFront-Viewer-Country'];", {"cloudfront-viewer-country"}),
        (
            'if (headers["accept-language"] && headers.authorization) {}',
            {"accept-language", "authorization"},
        ),
        ("request.headers['x-cohort'] = { value: v };", set()),  # written, not read
        ("if (headers['x-a'] == 'b' || headers.host === 'h') {}", {"x-a", "host"}),
        ("headers.hasOwnProperty('x')", set()),
        ("var h = headers[name];", set()),  # a name built at run time is not found
    ],
)
def test_header_reads_are_found_and_writes_are_not(code: str, names: set[str]) -> None:
    assert headers_read(code) == names


def test_an_access_log_rehearsal_names_the_headers_a_function_reads_but_the_log_lacks(
    tmp_path: Path,
) -> None:
    code = (ROOT / "functions" / "rewrite_table.js").read_text()
    marker = "  const key = tableKey(request.uri);"
    new = tmp_path / "rewrites.js"
    new.write_text(
        code.replace(
            marker,
            "  if (request.headers['accept-language']) { request.uri = '/de' + request.uri; }\n"
            + marker,
        )
    )
    report = rehearse(FIXTURES / "access.log", CONFIG, function_after={"rewrites": new}, jobs=1)
    assert report["partial"]
    assert report["missing_inputs"][-1] == (
        "function rewrites reads headers the log lacks: accept-language (its decisions on them "
        "are not rehearsed)"
    )
    # The log has no Accept-Language, so nothing visibly changes: the report must not be read
    # as "safe", which is why it is partial and says why.
    assert report["changed"] == 0
