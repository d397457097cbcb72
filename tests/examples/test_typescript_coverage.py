"""examples/typescript under coverage: built by npm (tsc to ES5, then esbuild bundles with
source maps), the reports name the .ts files at their lines, and the shared helper module adds
up across both functions."""

from __future__ import annotations

import shutil
import subprocess
from collections import OrderedDict
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from edgesim import coverage
from edgesim.coverage import formats
from edgesim.coverage.reports import parse_spec, write_reports
from edgesim.coverage.sourcemaps import summaries_in_sources
from edgesim.coverage.summary import FileSummary
from edgesim.testing import load_function, viewer_request, viewer_response
from tests.examples.test_typescript_example import EXAMPLE, _installed_dependencies
from tests.unit.coverage.test_reports import check_against_dtd, parse_lcov

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js and npm are not installed: the example is built with npm (tsc, esbuild)",
)

SOURCES = ["src/router.ts", "src/security.ts", "src/shared/headers.ts"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example, built (dependencies from npm ci, cached between runs)."""
    folder = tmp_path_factory.mktemp("typescript-coverage") / "example"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("node_modules", "build", "dist"))
    (folder / "node_modules").symlink_to(_installed_dependencies(), target_is_directory=True)
    done = subprocess.run(
        ["npm", "run", "build:edge"], cwd=folder, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def line_of(project: Path, source: str, text: str) -> int:
    """The line of ``source`` holding ``text`` (once), found by searching the .ts file."""
    lines = (project / source).read_text().split("\n")
    found = [number for number, line in enumerate(lines, 1) if text in line]
    assert len(found) == 1, (source, text, found)
    return found[0]


@pytest.fixture
def measured(built: Path, monkeypatch: pytest.MonkeyPatch) -> coverage.Collector:
    monkeypatch.chdir(built)
    collector = coverage.start(include=["dist"])
    try:
        router = load_function("dist/router.js")
        security = load_function("dist/security.js")
    finally:
        coverage.stop()
    french = router.run(viewer_request("/", headers={"accept-language": "fr-CA,fr;q=0.9"}))
    assert french.response is not None
    assert french.response["headers"]["location"] == {"value": "/fr/"}
    docs = router.run(viewer_request("/docs/")).request
    assert docs is not None
    assert docs["uri"] == "/docs/index.html"
    # Only responses with a Server header: the if's else arm in security.ts is never taken.
    answer = security.run(viewer_response(200, headers={"server": "origin/1.0"})).response
    assert answer is not None
    assert "server" not in answer["headers"]
    return collector


def _files(collector: coverage.Collector) -> dict[str, FileSummary]:
    return {s.path: s for s in summaries_in_sources(collector)[0]}


def test_the_report_is_of_the_typescript_sources(built: Path, measured: coverage.Collector) -> None:
    summaries, notes = summaries_in_sources(measured)
    files = {s.path: s for s in summaries}
    assert sorted(files) == SOURCES
    router = files["src/router.ts"]
    assert router.lines[line_of(built, "src/router.ts", 'if (request.uri === "/")')] == 2
    assert router.lines[line_of(built, "src/router.ts", 'if (request.uri.endsWith("/"))')] == 1
    security = files["src/security.ts"]
    server_if = line_of(built, "src/security.ts", 'if (headerValue(response.headers, "server")')
    assert [(b.line, b.kind, arm.label) for b, arm in security.missed_arms] == [
        (server_if, "if", "else")
    ]
    # Probes in esbuild's module glue and the footer's handler are left out, and said.
    assert any(n.startswith("dist/router.js: ") and "without a source" in n for n in notes)


def test_the_shared_helper_adds_up_across_both_functions(
    built: Path, measured: coverage.Collector
) -> None:
    headers = _files(measured)["src/shared/headers.ts"]
    entry = line_of(built, "src/shared/headers.ts", "const entry = headers[name];")
    assert headers.lines[entry] == 2  # router's Accept-Language, security's Server
    calls = {f.name: f.count for f in headers.functions}
    assert calls["headerValue"] == 2
    assert calls["preferredLanguage"] == 1  # only in router.js
    assert calls["setHeaders"] == 1  # only in security.js


def test_lcov_cobertura_and_fail_under_use_the_sources(
    built: Path, measured: coverage.Collector
) -> None:
    specs = [parse_spec(s) for s in ("lcov:out/cov.lcov", "xml:out/cov.xml")]
    _text, share = write_reports(measured, specs)
    records = parse_lcov((built / "out/cov.lcov").read_text())
    assert sorted(records) == SOURCES
    server_if = line_of(built, "src/security.ts", 'if (headerValue(response.headers, "server")')
    assert f"{server_if},0,1,0" in records["src/security.ts"]["BRDA"]
    root = ET.fromstring((built / "out/cov.xml").read_text().split("\n", 2)[2])
    check_against_dtd(root)
    assert sorted(c.attrib["filename"] for c in root.iter("class")) == SOURCES
    _plain, built_share = write_reports(measured, [], sourcemaps=False)
    assert share != built_share  # the gate takes the sources' figures unless told otherwise
    plain = formats.term(summaries_in_sources(measured, sourcemaps=False)[0])
    assert "dist/router.js" in plain
    assert ".ts" not in plain


async def test_under_serve_the_report_reuses_the_builds_decoding(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """serve builds, loads and measures; the report then needs no Node process of its own:
    the build step decoded each map already (same contents, decoded once per process)."""
    import aiohttp

    from edgesim.app import EdgeServer
    from edgesim.build import sourcemap
    from edgesim.distribution.config import load_config

    monkeypatch.setattr(sourcemap, "_DECODED", OrderedDict())  # nothing decoded before serve
    monkeypatch.chdir(built)
    config = built / "edgesim-cov.toml"
    text = (EXAMPLE / "edgesim.toml").read_text().replace("3000", "9")
    config.write_text(
        "[server]\nport = 0\nadmin_port = 0\nhttps = false\nephemeral = true\n" + text
    )
    collector = coverage.start()
    try:
        server = EdgeServer(load_config(config))
        await server.start()
        try:
            async with aiohttp.ClientSession() as session:
                url = f"http://127.0.0.1:{server.viewer_port}/"
                headers = {"Accept-Language": "de"}
                async with session.get(url, headers=headers, allow_redirects=False) as answer:
                    assert answer.headers["Location"] == "/de/"
        finally:
            await server.stop()
    finally:
        coverage.stop()

    def no_decoding(requests: object) -> list[list[list[object]]]:
        raise AssertionError(f"decoded again at report time: {requests!r:.80}")

    monkeypatch.setattr(sourcemap, "decode_many", no_decoding)
    files = _files(collector)
    assert sorted(files) == SOURCES  # both functions loaded; only router ran
    assert files["src/router.ts"].lines[line_of(built, "src/router.ts", "const language")] == 1
    assert files["src/security.ts"].covered == 0
