"""Rotation policies, the rotation settings and take-name templates (no JACK)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from jackrec import config
from jackrec.errors import UsageError
from jackrec.naming import RunNames, free_name
from jackrec.rotation import Cut, Rotation


def load(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return config.load(path)


def test_cuts_by_length_are_exact_and_follow_each_other() -> None:
    rotation = Rotation(60)
    cut = rotation.first_cut(start_frame=1000, start_unix=0.0, rate=48000)
    assert cut == Cut(frame=1000 + 60 * 48000)
    assert cut.frame is not None
    assert rotation.next_cut(cut, cut.frame, 48000) == Cut(frame=1000 + 120 * 48000)
    # a size cut came first, at frame 5000: the next take has its whole length
    assert rotation.next_cut(cut, 5000, 48000) == Cut(frame=5000 + 60 * 48000)


def test_cuts_on_the_clock_fall_on_the_hour() -> None:
    rotation = Rotation(3600, at_clock=True)
    start = 1_800_000_000.0 + 1234.5  # 20 min 34.5 s past an hour
    cut = rotation.first_cut(start_frame=0, start_unix=start, rate=48000)
    assert cut.unix is not None and cut.unix % 3600 == 0 and 0 < cut.unix - start <= 3600
    # its frame comes from the clock near the cut: 1.5 s before it, frame 10**9
    assert cut.frame_at(10**9, cut.unix - 1.5, 48000) == 10**9 + 72000
    resolved = Cut(frame=5, unix=cut.unix)
    assert rotation.next_cut(resolved, 5, 48000).unix == cut.unix + 3600
    # a size cut before the hour leaves the hour's cut where it was
    assert rotation.next_cut(cut, 3, 48000) == cut


def test_size_alone_has_no_timed_cut() -> None:
    rotation = Rotation(size=2**30)
    assert rotation.first_cut(0, 0.0, 48000) == Cut()
    assert Cut().frame_at(10, 1.0, 48000) is None


def test_rotation_settings_are_recording_settings(tmp_path: Path) -> None:
    settings = load(tmp_path, 'rotate = "15m"\nrotate_at_clock = true\nrotate_size = "2G"\n')
    assert settings.rotation() == Rotation(900.0, at_clock=True, size=2 * 2**30)
    assert load(tmp_path, "rotate = 90").rotation() == Rotation(90.0)
    assert load(tmp_path, "").rotation() is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('rotate = "often"', "'rotate' must be a duration"),
        ('rotate = "100ms"', "rotate must be at least 1 second"),
        ("rotate = nan", "'rotate' must be a duration"),
        ("rotate = -5", "'rotate' must be a duration"),
        ('rotate_size = "big"', "'rotate_size' must be a size"),
        ("rotate_size = inf", "'rotate_size' must be a size"),
        ('rotate_size = "1K"', "rotate_size must be at least 64 KiB"),
        ("rotate_at_clock = 1", "'rotate_at_clock' has the wrong type"),
        ("rotate_at_clock = true", "rotate_at_clock needs rotate"),
        ('template = "{nope}"', "template is not usable"),
        ('template = "a/{n}"', "template is not usable"),
        ('template = ".hidden-{n}"', "template is not usable"),
    ],
)
def test_bad_rotation_settings_name_the_file_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message) as raised:
        load(tmp_path, text + "\n")
    assert str(tmp_path / "config.toml") in str(raised.value)


def test_templates_take_strftime_fields_the_number_and_the_client() -> None:
    when = dt.datetime(2026, 11, 26, 21, 5, 9)
    settings = config.Config(template="%Y-%m-%d_%H%M%S-{client}-{n:04}", format="flac")
    assert settings.take_name(7, when, "stage") == "2026-11-26_210509-stage-0007.flac"
    assert config.Config().take_name(3, when) == "20261126-210509-take003.wav"


def test_a_run_names_its_takes_from_file_or_a_pattern(tmp_path: Path) -> None:
    one = RunNames.of(tmp_path / "a.wav", None, several=False)
    assert one.next("jackrec") == one.next("jackrec") == tmp_path / "a.wav"
    numbered = RunNames.of(tmp_path / "a.wav", None, several=True)
    (tmp_path / "a-002.wav.json").write_text("{}")  # a sidecar takes its name too
    assert [numbered.next("c").name for _ in range(2)] == ["a-001.wav", "a-003.wav"]
    pattern = RunNames.of(None, str(tmp_path / "{client}-{n:02}.flac"), several=False)
    assert pattern.next("stage").name == "stage-01.flac"
    with pytest.raises(UsageError, match="FILE or --name-template"):
        RunNames.of(tmp_path / "a.wav", "b.wav", several=True)
    with pytest.raises(UsageError, match="not usable"):
        RunNames.of(tmp_path / "{oops}.wav", None, several=True).check("jackrec")


def test_a_pattern_without_a_number_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "hour.wav").write_bytes(b"")
    (tmp_path / "hour-2.wav").symlink_to(tmp_path / "nowhere")  # dangling: still taken
    path, _ = free_name(tmp_path, lambda n: "hour.wav", 1)
    assert path == tmp_path / "hour-3.wav"
