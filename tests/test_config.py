"""The settings file: defaults, errors that name the problem, round trips."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from jackrec import config
from jackrec.errors import UsageError


def test_missing_default_file_means_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "absent"))
    assert config.load() == config.Config()


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"absent\.toml does not exist"):
        config.load(tmp_path / "absent.toml")


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.toml"
    changes = {
        "format": "w64",
        "bits": "24",
        "channels": 8,
        "ports": ["system:*"],
        "trigger": -24.5,
        "align": True,
    }
    config.save(changes, path)
    assert config.load(path) == config.Config(**changes)  # type: ignore[arg-type]


def test_saving_writes_only_the_changes(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('format = "flac"\nbits = "16"\ntrigger = -20.0\n')
    config.save({"template": "mix{n}", "bits": "24", "trigger": None}, path)
    assert tomllib.loads(path.read_text()) == {
        "format": "flac", "bits": "24", "template": "mix{n}"
    }  # fmt: skip


def test_saving_refuses_what_would_not_load(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('format = "flac"\n')
    with pytest.raises(UsageError, match="preroll must be 0 to 600"):
        config.save({"preroll": -1.0}, path)
    assert path.read_text() == 'format = "flac"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("format = ", "config.toml"),
        ("formt = 'wav'", "unknown setting 'formt'"),
        ("channels = '8'", "'channels' has the wrong type"),
        ("channels = 0", "channels must be 1 to 2048"),
        ("format = 'aiff'", "format must be one of"),
        ("bits = 12", "bits must be one of"),
        ("ports = [1]", "'ports' must be a list of strings"),
        ("buffer = true", "'buffer' has the wrong type"),
        ("template = '{nope}'", "template is not usable"),
        ("template = 'a/{n}'", "template is not usable"),
        ("trigger = 3", "trigger must be -120 to 0 dBFS"),
        ("trigger = 'loud'", "'trigger' has the wrong type"),
        ("align = 1", "'align' has the wrong type"),
        ("split = 'stereo'", "split: 'stereo' is not a channel or a range"),
        ("split = '1-2,4-8'", "split: .4-8.: groups must follow one another"),
        ("sync = '0.1s'", "sync must be 0.5 to 3600 seconds"),
        ("sync = 'often'", "'sync' must be a duration such as '5s'"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text + "\n")
    with pytest.raises(UsageError, match=message) as error:
        config.load(path)
    assert "\n" not in str(error.value)


def test_the_sync_interval_is_a_duration(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("sync = '1m'\n")
    assert config.load(path).sync == 60.0
    path.write_text("sync = 2\n")
    assert config.load(path).sync == 2.0


def test_take_names_follow_the_template() -> None:
    settings = config.Config(template="{date}-{time}-take{n:03}", format="flac")
    when = dt.datetime(2026, 11, 25, 19, 5, 0)
    assert settings.take_name(7, when) == "20261125-190500-take007.flac"


def test_xdg_config_home_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config.default_path() == tmp_path / "jackrec" / "config.toml"
