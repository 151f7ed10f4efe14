"""Every event says its log line and its JSON form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jackrec import events

TAKE = Path("/takes/take001.wav")
EXAMPLES = [
    events.Notice("4 ports match; recording the first 2 (--channels)"),
    events.TakeStarted(TAKE, 4800),
    events.TakeFinished(TAKE, 96000, "stop request", None),
    events.FramesLost(TAKE, 48000, 256),
    events.Xrun(312.5),
    events.MarkerAdded(TAKE, "verse", 1000),
    events.TriggerFired(12345),
    events.RecorderError("No space left on device"),
    events.ServerLost("JACK server has been closed"),
]


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda event: type(event).__name__)
def test_text_and_json(event: events.Event) -> None:
    data = json.loads(json.dumps(event.to_json()))
    assert data["event"] == event.name and data["text"] == event.text and event.text
    assert data["level"] in ("info", "warning", "error") and data["time"] == event.time
    assert "\n" not in event.text  # one line each, for a log


def test_names_and_fields() -> None:
    finished = events.TakeFinished(TAKE, 96000, "write error", "No space left on device")
    assert finished.name == "take_finished"
    assert finished.to_json()["path"] == "/takes/take001.wav"
    assert finished.text == (
        "take001.wav: 96000 frames, ended by write error: No space left on device"
    )
