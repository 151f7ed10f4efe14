"""The C file writer (``cext/filewrite.c``) against a NumPy model, without JACK.

The model is the conversion rule the module docstrings state: scale by
2**(bits-1) (plus the dither), round to nearest with ties to even, clip to
the integer range.  Every container path is checked by reading the file
back with libsndfile: packed samples (WAV, W64, RF64) and libsndfile's own
conversion (FLAC, CAF, float RF64).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from jackrec.core.filewrite import FilesWriter
from jackrec.levels import TakeLevels
from jackrec.takefile import FileFormat, TakeFile

BITS = {"PCM_16": 16, "PCM_24": 24, "PCM_32": 32}


def model(
    frames: npt.NDArray[np.float32], bits: int, noise: npt.NDArray[np.float64] | None = None
) -> npt.NDArray[np.int64]:
    """The integers the rule gives (as libsndfile reads them back into int32: top bits)."""
    full_scale = 2.0 ** (bits - 1)
    scaled = frames.astype(np.float64) * full_scale + (0 if noise is None else noise)
    values = np.clip(np.rint(scaled), -full_scale, full_scale - 1).astype(np.int64)
    return values << (32 - bits)


def awkward(frames: int, channels: int, seed: int) -> npt.NDArray[np.float32]:
    """Samples beyond full scale, ties between integers, and the exact limits."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, (frames, channels)).astype(np.float32)
    x[::7] = (np.round(x[::7] * 2**15) + 0.5) / 2**15  # ties at 16 bits
    x[1::11] = (np.round(x[1::11] * 2**23) + 0.5) / 2**23  # ties at 24 bits
    x[2, :] = 1.0
    x[3, :] = -1.0
    x[4, :] = np.float32(1 - 2**-24)
    return x


@pytest.mark.parametrize(
    ("container", "subtype"),
    [
        ("WAV", "PCM_16"), ("WAV", "PCM_24"), ("WAV", "PCM_32"),
        ("W64", "PCM_24"), ("RF64", "PCM_24"),  # packed by jackrec
        ("FLAC", "PCM_16"), ("FLAC", "PCM_24"), ("CAF", "PCM_24"), ("CAF", "PCM_32"),
    ],
)  # fmt: skip
def test_integer_samples_follow_the_rule_in_every_container(
    tmp_path: Path, container: str, subtype: str
) -> None:
    frames = awkward(3001, 3, seed=len(container + subtype))
    if container == "FLAC":
        frames = np.clip(frames, -1, 1)
    path = tmp_path / f"t.{container.lower()}"
    take = TakeFile.create(path, FileFormat(container, subtype), 3, 48000, scratch_bytes=1000)
    take.write(frames)  # in many writes: the scratch holds 83-111 frames
    take.close()
    back, _ = sf.read(str(path), dtype="int32")
    assert np.array_equal(back, model(frames, BITS[subtype]))


@pytest.mark.parametrize("container", ["WAV", "W64", "RF64", "CAF"])
def test_float_samples_are_written_as_they_are(tmp_path: Path, container: str) -> None:
    frames = awkward(2000, 5, seed=1)
    path = tmp_path / f"t.{container.lower()}"
    take = TakeFile.create(path, FileFormat(container, "FLOAT"), 5, 48000, scratch_bytes=4096)
    take.write(frames)
    take.close()
    back, _ = sf.read(str(path), dtype="float32")
    assert np.array_equal(back, frames)


# hypothesis: one temporary directory for the module (function fixtures do not reset)
SCRATCH_DIR = Path(tempfile.mkdtemp(prefix="jackrec-filewrite-"))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, width=32), min_size=1, max_size=40),
    st.sampled_from(sorted(BITS)),
)
def test_any_float_clips_instead_of_wrapping(values: list[float], subtype: str) -> None:
    frames = np.array(values, dtype=np.float32)[:, None]
    with tempfile.TemporaryDirectory(dir=SCRATCH_DIR) as directory:
        path = Path(directory) / "h.wav"
        take = TakeFile.create(path, FileFormat("WAV", subtype), 1, 48000)
        take.write(frames)
        take.close()
        back, _ = sf.read(str(path), dtype="int32")
    assert np.array_equal(back, model(frames, BITS[subtype])[:, 0])


def test_files_take_their_channels_measure_them_and_write_silence(tmp_path: Path) -> None:
    """A take's files pick columns (in any order), measure the take's levels
    per file channel, and a gap's silence is exact zeros in every file; a
    file of every column in order is written from where the frames lie."""
    stream = awkward(5000, 9, seed=3)
    maps = [
        np.array([4, 0, 7], np.uint32),
        np.array([1, 2], np.uint32),
        np.array([8], np.uint32),
        np.arange(9, dtype=np.uint32),
    ]
    levels = TakeLevels(15)
    slices = [slice(0, 3), slice(3, 5), slice(5, 6), slice(6, 15)]
    files = [
        TakeFile.create(tmp_path / f"{i}.wav", FileFormat("WAV", "FLOAT"), len(m), 48000, None, 512)
        for i, m in enumerate(maps)
    ]
    writer = FilesWriter(
        [file.sink for file in files], maps, [(levels.peaks[s], levels.clips[s]) for s in slices]
    )
    assert writer.write(stream[:3000]) is None
    assert writer.write_silence(700) is None
    assert writer.write(stream[3000:]) is None
    for file in files:
        file.close()
    columns = np.concatenate(maps)
    assert np.array_equal(levels.peaks, np.abs(stream[:, columns]).max(axis=0))
    assert np.array_equal(levels.clips, (np.abs(stream[:, columns]) >= 1.0).sum(axis=0))
    for i, columns_of_file in enumerate(maps):
        back, _ = sf.read(str(tmp_path / f"{i}.wav"), dtype="float32", always_2d=True)
        expected = np.concatenate([stream[:3000], np.zeros((700, 9), np.float32), stream[3000:]])[
            :, columns_of_file
        ]
        assert np.array_equal(back, expected)


def test_silence_is_minus_infinity() -> None:
    assert TakeLevels(2).peaks_dbfs() == [-np.inf, -np.inf]
