"""What the reloader does with a changed file: a config is reloaded with the command line's
overrides applied again, a broken config keeps the running one, other files go to the function
and seed reloads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from edgesim.devloop.reloader import apply_change
from edgesim.distribution.config import load_config
from edgesim.distribution.model import Distribution, Throttling

CONFIG = """
[server]
ephemeral = true

[[origins]]
id = "app"
url = "http://127.0.0.1:3000"

[default_behavior]
origin = "app"
"""


@dataclass
class FakeServer:
    dist: Distribution
    reloaded: list[Distribution] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def reload_config(self, dist: Distribution) -> None:
        self.reloaded.append(dist)

    def say(self, line: str) -> None:
        self.said.append(line)

    def reload_function_file(self, path: Path) -> bool:
        self.files.append(path)
        return False

    def reload_seed_file(self, path: Path) -> bool:
        self.files.append(path)
        return False

    def reload_lambda_file(self, path: Path) -> bool:
        return False


def no_throttle(dist: Distribution) -> Distribution:
    return replace(dist, throttling=Throttling(enabled=False))


def test_config_reload_applies_the_command_line_overrides_again(tmp_path: Path) -> None:
    config = tmp_path / "edgesim.toml"
    config.write_text(CONFIG)
    server = FakeServer(load_config(config))
    config.write_text(CONFIG.replace("3000", "3001"))
    apply_change(server, config.resolve(), no_throttle)  # type: ignore[arg-type]
    (new,) = server.reloaded
    assert new.origins["app"].url == "http://127.0.0.1:3001"
    assert not new.throttling.enabled


def test_broken_config_keeps_the_running_one(tmp_path: Path) -> None:
    config = tmp_path / "edgesim.toml"
    config.write_text(CONFIG)
    server = FakeServer(load_config(config))
    config.write_text(CONFIG + "\n[nonsense]\n")
    apply_change(server, config.resolve(), no_throttle)  # type: ignore[arg-type]
    assert server.reloaded == []
    assert "still serving the previous one" in server.said[-1]


def test_other_files_go_to_the_function_and_seed_reloads(tmp_path: Path) -> None:
    config = tmp_path / "edgesim.toml"
    config.write_text(CONFIG)
    server = FakeServer(load_config(config))
    apply_change(server, tmp_path / "fn.js")  # type: ignore[arg-type]
    assert server.files == [tmp_path / "fn.js", tmp_path / "fn.js"]
