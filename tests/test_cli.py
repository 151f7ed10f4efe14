"""Command-line parsing and the status line, without JACK."""

from __future__ import annotations

import argparse

import pytest

from jackrec.cli import build_parser, main, parse_bits, parse_seconds
from jackrec.session import SessionStatus
from jackrec.status import format_clock, status_text


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("1.5", 1.5), ("1:30", 90.0), ("1:02:03.5", 3723.5)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1:2:3:4", "-5", "1e3", "1:70", "1:60:00", "0:0:60"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_seconds(text)


def test_bit_depths_accept_libsndfile_names() -> None:
    assert parse_bits("PCM_24") == "24" and parse_bits("float") == "float"
    with pytest.raises(argparse.ArgumentTypeError):
        parse_bits("8")


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("jackrec: error: ")


def test_status_line_fits_and_shows_the_loudest_channels() -> None:
    peaks = [-60.0] * 64
    peaks[41] = -1.5
    line = status_text(status(frames=48000 * 75, xruns=3, ring_fill=0.012), peaks, 80)
    assert len(line) < 80
    assert line.startswith("REC 00:01:15.0") and "xruns 3" in line
    assert "loudest 42:-1.5" in line


def test_status_line_shows_every_channel_when_they_fit() -> None:
    line = status_text(status(frames=48000), [-6.0, float("-inf")], 120)
    assert line.endswith("| 1:-6.0 2:-inf")


def status(
    frames: int, xruns: int = 0, ring_fill: float = 0.0, state: str = "recording"
) -> SessionStatus:
    return SessionStatus(
        state=state, take=None, take_frames=frames, take_bytes=0, ring_fill=ring_fill,
        preroll_fill=0.0, xruns=xruns, frames_lost=0, dsp_load=0.0, sample_rate=48000,
        period=256, disk_free=None,
    )  # fmt: skip


def test_status_line_says_when_an_armed_record_waits() -> None:
    assert status_text(status(0, state="armed"), [-6.0], 80).startswith("ARMED 00:00:00.0")


def test_clock() -> None:
    assert format_clock(3723.25) == "01:02:03.2"


@pytest.mark.parametrize("argv", [["-v", "ports"], ["ports", "-v"], ["ports", "--verbose"]])
def test_verbose_before_or_after_the_command(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).verbose is True


def test_quiet_by_default() -> None:
    assert build_parser().parse_args(["ports"]).verbose is False
