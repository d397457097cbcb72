"""The inspector in Firefox: live rows, a request's detail, the views by keyboard and a KVS put
from the page (same-origin request with the token).

Playwright for Python drives only its own patched Firefox, which cannot be downloaded here, so
this test drives stock Firefox (Debian's ``firefox-esr``) over WebDriver BiDi with the npm
package ``puppeteer-core`` (tests/browser/firefox/, installed by ``npm ci`` from its lock file
into a cache directory on first use). It skips, saying why, where Firefox, Node or the npm
registry is missing. Screenshots go beside the Chromium ones (``*-firefox.png``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

from tests.browser.conftest import Edge

HERE = Path(__file__).resolve().parent / "firefox"
FILES = ("package.json", "package-lock.json", "inspector_check.cjs")
CANDIDATES = ("firefox-esr", "firefox")
SCRIPT_TIMEOUT_S = 120


def firefox_path() -> str | None:
    configured = os.environ.get("EDGESIM_FIREFOX")
    if configured:
        return configured if Path(configured).exists() else None
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


def installed_checker() -> Path:
    """tests/browser/firefox with its node_modules, in a cache directory keyed by the files'
    contents (``npm ci`` runs once per version of them)."""
    digest = hashlib.sha256(b"".join((HERE / name).read_bytes() for name in FILES)).hexdigest()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edgesim"
    target = cache / f"firefox-check-{digest[:16]}"
    if (target / "node_modules" / "puppeteer-core").is_dir():
        return target
    staging = cache / f"firefox-check-{digest[:16]}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in FILES:
        shutil.copyfile(HERE / name, staging / name)
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=staging,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.skip(f"npm ci for puppeteer-core failed (no npm registry?): {done.stderr[-500:]}")
    try:
        staging.rename(target)
    except OSError:  # another run installed it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return target


@pytest.fixture(scope="session")
def firefox_checker() -> tuple[str, Path]:
    firefox = firefox_path()
    if firefox is None:
        pytest.skip(
            "Firefox is not installed (apt-get install firefox-esr, or set EDGESIM_FIREFOX): "
            "the inspector's Firefox test needs it"
        )
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed to drive Firefox (puppeteer-core)")
    return firefox, installed_checker()


async def test_the_inspector_works_in_firefox(
    firefox_checker: tuple[str, Path], edge: Edge
) -> None:
    firefox, checker = firefox_checker
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(checker / "inspector_check.cjs"),
        firefox,
        edge.admin,
        str(edge.shots),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(SCRIPT_TIMEOUT_S):
            first = (await proc.stdout.readline()).decode().strip()
            if first == "ready":
                # The same traffic as the Chromium test: a rewrite, then a miss and a hit.
                assert await edge.get("/old/page", pop="IAD") == 200
                assert await edge.get("/about", pop="FRA") == 200
                assert await edge.get("/about", pop="FRA") == 200
                proc.stdin.write(b"sent\n")
                await proc.stdin.drain()
                last = (await proc.stdout.readline()).decode().strip()
            else:
                last = first
            stderr = (await proc.stderr.read()).decode(errors="replace")
            await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert last, f"the Firefox check printed nothing; its stderr:\n{stderr[-2000:]}"
    result = orjson.loads(last)
    assert result["ok"], f"{result.get('error')}\nstderr:\n{stderr[-2000:]}"
    assert result["browser"].startswith("firefox/")
    # The page's KVS form went through the ETag-checked API.
    assert edge.server.kvs.export("site")["greeting"] == "bonjour"
