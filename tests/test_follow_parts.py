"""Following JACK's transport and freewheel, the parts without JACK: states and settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from jackrec import config
from jackrec.cli import main
from jackrec.core.capture import FREEWHEEL, ROLLING
from jackrec.errors import UsageError
from jackrec.follow import describe, followed_state
from jackrec.service import Service


def test_the_states_followed_and_what_a_take_is() -> None:
    assert followed_state(False, False) == 0
    assert followed_state(True, False) == ROLLING
    assert followed_state(True, True) == ROLLING | FREEWHEEL
    assert describe(ROLLING) == "roll"
    assert describe(FREEWHEEL) == "freewheel run"
    assert describe(ROLLING | FREEWHEEL) == "roll in freewheel"
    assert describe(0) == ""


def test_the_settings_keys_and_the_service(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("transport = true\nfreewheel = true\n")
    loaded = config.load(path)
    assert loaded.transport and loaded.freewheel
    service = Service(loaded, path)
    assert service.following == ROLLING | FREEWHEEL
    assert not service.want_recording  # it follows instead of starting a take
    assert Service(config.Config(), None).following == 0
    path.write_text('transport = "yes"\n')
    with pytest.raises(UsageError, match="'transport' has the wrong type"):
        config.load(path)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--transport", "--trigger", "-20"],
            "--transport and --freewheel do not arm: not with --preroll or --trigger",
        ),
        (
            ["--freewheel", "--preroll", "5"],
            "--transport and --freewheel do not arm: not with --preroll or --trigger",
        ),
        (["--takes", "2"], "--takes needs --preroll, --trigger, --transport or --freewheel"),
        (["--transport", "--takes", "0"], "--takes must be at least 1"),
    ],
)
def test_following_options_that_cannot_work_are_one_line_errors(
    args: list[str], error: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["record", *args, str(tmp_path / "take.wav")]) == 2
    err = capsys.readouterr().err
    assert err == f"jackrec: error: {error}\n"
    assert list(tmp_path.iterdir()) == []
