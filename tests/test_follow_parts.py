"""Following JACK's transport and freewheel, the parts without JACK: states and settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from jackrec import config
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
