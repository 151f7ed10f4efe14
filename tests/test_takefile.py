"""Format choice, integer conversion and file creation, without JACK."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given
from hypothesis import strategies as st

from jackrec.errors import JackrecError, UsageError
from jackrec.takefile import INTEGER_SAMPLES, FileFormat, TakeFile, resolve_format


def test_format_follows_the_extension() -> None:
    assert resolve_format(Path("a.w64"), None, None, 2, 48000, 10).container == "W64"
    assert resolve_format(Path("a.FLAC"), None, None, 2, 48000, 10).subtype == "PCM_24"
    assert resolve_format(Path("a.caf"), None, "16", 2, 48000, 10).subtype == "PCM_16"


def test_short_wav_stays_wav_long_or_open_ended_wav_becomes_rf64() -> None:
    short = resolve_format(Path("a.wav"), None, None, 2, 48000, 60)
    assert short == FileFormat("WAV", "FLOAT")
    long = resolve_format(Path("a.wav"), None, None, 64, 48000, 3600)  # 44 GB
    assert long == FileFormat("RF64", "FLOAT", rf64_downgrade=False)
    open_ended = resolve_format(Path("a.wav"), None, None, 2, 48000, None)
    assert open_ended == FileFormat("RF64", "FLOAT", rf64_downgrade=True)


@pytest.mark.parametrize(
    ("name", "format_name", "bits", "channels", "message"),
    [
        ("a.mp3", None, None, 2, "cannot tell the format"),
        ("a.wav", "ogg", None, 2, "unknown format"),
        ("a.flac", None, "float", 2, "cannot hold float"),
        ("a.flac", None, "32", 2, "cannot hold 32-bit"),
        ("a.flac", None, None, 9, "at most 8 channels"),
        ("a.wav", None, None, 1025, "at most 1024 channels"),
    ],
)
def test_impossible_formats_are_usage_errors(
    name: str, format_name: str | None, bits: str | None, channels: int, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        resolve_format(Path(name), format_name, bits, channels, 48000, 10)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32"])
def test_integer_grid_round_trips_exactly(tmp_path: Path, subtype: str) -> None:
    bits = {"PCM_16": 16, "PCM_24": 24, "PCM_32": 32}[subtype]
    grid = np.array([-1.0, -0.5, 0.0, 2.0 ** -(bits - 1), 0.25, 1 - 2.0**-15], np.float32)
    frames = np.stack([grid, grid[::-1]], axis=1)
    take = TakeFile.create(tmp_path / "t.wav", FileFormat("WAV", subtype), 2, 48000)
    take.write(frames)
    take.close()
    back, _ = sf.read(str(tmp_path / "t.wav"), dtype="float32")
    assert np.array_equal(back, frames)


@given(st.lists(st.floats(-4.0, 4.0, width=32), min_size=1, max_size=50))
def test_conversion_clips_instead_of_wrapping(values: list[float]) -> None:
    frames = np.array(values, dtype=np.float32)[:, None]
    samples = INTEGER_SAMPLES["PCM_16"].convert(frames)
    assert samples.dtype == np.int16
    assert np.all((samples == 32767) == (frames >= 32767.5 / 32768))
    assert np.all((samples == -32768) == (frames <= -32767.5 / 32768))


def test_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keep.wav"
    path.write_bytes(b"precious")
    with pytest.raises(JackrecError, match="never overwrites"):
        TakeFile.create(path, FileFormat("WAV", "FLOAT"), 2, 48000)
    assert path.read_bytes() == b"precious"


def test_a_take_that_libsndfile_refuses_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "refused.wav"
    with pytest.raises(JackrecError, match="cannot write"):
        TakeFile.create(path, FileFormat("WAV", "FLOAT"), 2000, 48000)
    assert not path.exists()
