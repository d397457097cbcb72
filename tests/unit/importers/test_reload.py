"""Hot reload of an imported distribution (edgesim.devloop.reloader with ``reimport``): the
source files are watched, a change re-imports with the same arguments, a broken source keeps
the last good distribution."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from edgesim.devloop.reloader import apply_change, watched_files
from edgesim.distribution.model import Distribution, Throttling
from edgesim.importers.load import load_distribution
from tests.unit.importers.helpers import config


@dataclass
class FakeServer:
    dist: Distribution
    reloaded: list[Distribution] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def reload_config(self, dist: Distribution) -> None:
        self.reloaded.append(dist)
        self.dist = dist

    def say(self, line: str) -> None:
        self.said.append(line)

    def reload_function_file(self, path: Path) -> bool:
        self.files.append(path)
        return False

    def reload_seed_file(self, path: Path) -> bool:
        self.files.append(path)
        return False


def setup(tmp_path: Path) -> tuple[Path, Path, FakeServer, object]:
    source = tmp_path / "dist.json"
    source.write_text(json.dumps({"DistributionConfig": config()}))
    fn = tmp_path / "fn.js"
    fn.write_text("function handler(e) { return e.request; }")

    def reimport() -> Distribution:
        return load_distribution(
            source,
            workdir=tmp_path / "work",
            origins=["app=http://127.0.0.1:3000"],
            functions=[f"fn={fn}"],
        )

    return source, fn, FakeServer(reimport()), reimport


def no_throttle(dist: Distribution) -> Distribution:
    return replace(dist, throttling=Throttling(enabled=False))


def test_the_source_files_are_what_is_watched(tmp_path: Path) -> None:
    source, fn, server, _ = setup(tmp_path)
    assert watched_files(server) == {source, fn}  # type: ignore[arg-type]


def test_a_changed_source_is_imported_again(tmp_path: Path) -> None:
    source, _, server, reimport = setup(tmp_path)
    changed = config()
    changed["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = "https-only"
    source.write_text(json.dumps({"DistributionConfig": changed}))
    apply_change(server, source, no_throttle, reimport)  # type: ignore[arg-type]
    (new,) = server.reloaded
    assert new.default_behavior.viewer_protocol_policy == "https-only"
    assert new.origins_local["app"].url == "http://127.0.0.1:3000"  # same arguments
    assert not new.throttling.enabled  # the command line's overrides again


def test_a_source_that_no_longer_imports_keeps_the_last_good_distribution(tmp_path: Path) -> None:
    source, _, server, reimport = setup(tmp_path)
    broken = config()
    broken["DefaultCacheBehavior"]["TargetOriginId"] = "gone"
    source.write_text(json.dumps({"DistributionConfig": broken}))
    apply_change(server, source, None, reimport)  # type: ignore[arg-type]
    assert server.reloaded == []
    assert "does not import, still serving the previous distribution" in server.said[-1]
    assert "TargetOriginId: unknown origin or origin group 'gone'" in server.said[-1]


def test_a_function_file_given_by_flag_reimports_too(tmp_path: Path) -> None:
    _, fn, server, reimport = setup(tmp_path)
    apply_change(server, fn, None, reimport)  # type: ignore[arg-type]
    assert len(server.reloaded) == 1
    assert server.files == []
