"""Format choice, integer conversion and file creation, without JACK."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from jackrec.errors import JackrecError, UsageError
from jackrec.takefile import FileFormat, TakeFile, resolve_format
from tests.test_filewrite import model


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
        ("a.aiff", None, None, 2, "cannot tell the format"),
        ("a.wav", "aiff", None, 2, "unknown format"),
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


# ---- the lossy formats ----


@pytest.mark.parametrize(
    ("name", "container", "subtype"),
    [("a.ogg", "OGG", "VORBIS"), ("a.opus", "OGG", "OPUS"), ("a.mp3", "MP3", "MPEG_LAYER_III")],
)
def test_lossy_formats_follow_the_extension_and_take_no_bit_depth(
    name: str, container: str, subtype: str
) -> None:
    chosen = resolve_format(Path(name), None, "24", 2, 48000, None, quality=0.5, dither=True)
    assert chosen == FileFormat(container, subtype, quality=0.5)
    assert chosen.lossy


@pytest.mark.parametrize(
    ("name", "channels", "rate", "quality", "message"),
    [
        ("a.ogg", 256, 48000, None, "ogg holds at most 255 channels, not 256"),
        ("a.opus", 256, 48000, None, "opus holds at most 255 channels"),
        ("a.mp3", 3, 48000, None, "mp3 holds at most 2 channels, not 3"),
        ("a.opus", 2, 44100, None, "opus records only at 8000, 12000, 16000, 24000, 48000 Hz, "
         "not at the JACK server's 44100 Hz"),
        ("a.mp3", 2, 96000, None, "mp3 records only at 32000, 44100, 48000 Hz"),
        ("a.mp3", 2, 24000, None, "mp3 records only at"),
        ("a.mp3", 2, 48000, 0.1, "mp3 quality must be 0.15 to 1, not 0.1"),
        ("a.ogg", 2, 48000, 1.5, "ogg quality must be 0 to 1"),
    ],
)  # fmt: skip
def test_lossy_limits_are_usage_errors(
    name: str, channels: int, rate: int, quality: float | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        resolve_format(Path(name), None, None, channels, rate, None, quality=quality)


def test_quality_applies_only_to_lossy_formats_and_dither_only_to_16_bits() -> None:
    assert resolve_format(Path("a.wav"), None, "24", 2, 48000, 1, quality=0.3).quality is None
    assert not resolve_format(Path("a.wav"), None, "24", 2, 48000, 1, dither=True).dither
    assert resolve_format(Path("a.flac"), None, "16", 2, 48000, 1, dither=True).dither


def tones(frames: int, channels: int, rate: int) -> npt.NDArray[np.float32]:
    """A different tone per channel, so a channel swap would show."""
    t = np.arange(frames) / rate
    tones = [0.5 * np.sin(2 * np.pi * (440 + 110 * c) * t) for c in range(channels)]
    return np.stack(tones, axis=1).astype(np.float32)


@pytest.mark.parametrize(
    ("name", "container", "subtype", "channels", "rate"),
    [
        ("t.ogg", "OGG", "VORBIS", 9, 44100),
        ("t.opus", "OGG", "OPUS", 3, 48000),
        ("t.mp3", "MP3", "MPEG_LAYER_III", 2, 44100),
        ("t.mp3", "MP3", "MPEG_LAYER_III", 1, 32000),
    ],
)
@pytest.mark.parametrize("quality", [None, 0.15, 1.0])
def test_lossy_takes_keep_their_exact_length_and_their_signal(
    tmp_path: Path,
    name: str,
    container: str,
    subtype: str,
    channels: int,
    rate: int,
    quality: float | None,
) -> None:
    """Not bit-exact: exactly as many frames, each channel close to its own tone."""
    frames = 2 * rate + 123  # not a whole number of codec blocks
    signal = tones(frames, channels, rate)
    take = TakeFile.create(
        tmp_path / name, FileFormat(container, subtype, quality=quality), channels, rate
    )
    for start in range(0, frames, 4800):  # in the writer's blocks
        take.write(signal[start : start + 4800])
    take.close()
    back, back_rate = sf.read(str(tmp_path / name), dtype="float32", always_2d=True)
    assert (len(back), back.shape[1], back_rate) == (frames, channels, rate)
    middle = slice(rate // 10, -rate // 10)  # away from the codecs' edges
    for c in range(channels):
        correlation = np.corrcoef(back[middle, c], signal[middle, c])[0, 1]
        assert correlation > 0.99, (c, correlation)


def test_quality_sets_the_bit_rate(tmp_path: Path) -> None:
    sizes = {}
    for quality in (0.15, 1.0):
        path = tmp_path / f"{quality}.mp3"
        take = TakeFile.create(path, FileFormat("MP3", "MPEG_LAYER_III", quality=quality), 2, 48000)
        take.write(tones(48000 * 5, 2, 48000))
        take.close()
        sizes[quality] = path.stat().st_size * 8 / 5 / 1000  # kbit/s
    assert 78 < sizes[0.15] < 85  # 80 kbit/s, constant
    assert 318 < sizes[1.0] < 328  # 320


# ---- dither ----

DITHERED = FileFormat("WAV", "PCM_16", dither=True)


def dithered(
    values: npt.NDArray[np.floating], seed: int, directory: Path
) -> npt.NDArray[np.float64]:
    """`values` written dithered from `seed`, as read back."""
    path = directory / f"dithered-{seed}-{len(list(directory.iterdir()))}.wav"
    take = TakeFile.create(path, DITHERED, values.shape[1], 48000, dither_seed=seed)
    take.write(np.ascontiguousarray(values, dtype=np.float32))
    take.close()
    return np.asarray(sf.read(str(path), dtype="int16", always_2d=True)[0], dtype=np.float64)


def test_dither_error_has_no_bias_and_constant_variance_whatever_the_signal(
    tmp_path: Path,
) -> None:
    """TPDF's point: the error's mean and variance do not depend on the signal.

    Undithered, a constant a quarter LSB above zero always rounds to 0 (an
    error of -0.25 LSB, no noise); dithered, it averages to 0.25 LSB with
    variance 1/4 LSB² (1/6 of the dither plus 1/12 of the rounding).
    """
    lsb = 2.0**-15
    n = 200_000
    for offset in (0.0, 0.25, 0.5, 0.75):
        level = (100 + offset) * lsb
        samples = dithered(np.full((n, 1), level), 1, tmp_path)
        error = samples[:, 0] - (100 + offset)
        assert abs(error.mean()) < 0.01, offset
        assert abs(error.var() - 0.25) < 0.01, offset
        assert np.abs(error).max() < 1.5


def test_dither_noise_is_triangular_within_one_lsb(tmp_path: Path) -> None:
    """On the integer grid the error is the rounded dither: -1, 0, +1 LSB in
    the proportions a triangle over (-1, +1) gives (1/8, 3/4, 1/8)."""
    n = 400_000
    samples = dithered(np.full((n, 2), 1000 * 2.0**-15), 7, tmp_path)
    error = samples - 1000
    values, counts = np.unique(error, return_counts=True)
    assert values.tolist() == [-1.0, 0.0, 1.0]
    assert np.allclose(counts / error.size, [1 / 8, 3 / 4, 1 / 8], atol=0.005)
    # and the dither itself, drawn again from the seed, is the triangle
    draws = np.random.default_rng(7).random((n, 2, 2))
    noise = (draws[..., 0] - draws[..., 1]).ravel()
    assert np.abs(noise).max() < 1
    histogram, _ = np.histogram(noise, bins=8, range=(-1, 1))
    expected = np.array([1, 3, 5, 7, 7, 5, 3, 1]) / 32 * noise.size
    assert np.allclose(histogram, expected, rtol=0.02)


def test_dithered_take_is_reproduced_from_its_seed_however_it_was_split(tmp_path: Path) -> None:
    signal = tones(10_000, 2, 48000) * np.float32(0.01)
    take = TakeFile.create(tmp_path / "d.wav", DITHERED, 2, 48000)
    for start in range(0, 10_000, 777):
        take.write(signal[start : start + 777])
    take.close()
    assert take.dither_seed is not None
    back, _ = sf.read(str(tmp_path / "d.wav"), dtype="int16")
    assert np.array_equal(back, dithered(signal, take.dither_seed, tmp_path).astype(np.int16))
    assert not np.array_equal(back, model(signal, 16) >> 16)


def test_without_dither_16_bits_stay_bit_exact(tmp_path: Path) -> None:
    grid = np.arange(-32768, 32768, 7, dtype=np.float32) / np.float32(32768)
    take = TakeFile.create(tmp_path / "p.wav", FileFormat("WAV", "PCM_16"), 1, 48000)
    take.write(grid[:, None])
    take.close()
    back, _ = sf.read(str(tmp_path / "p.wav"), dtype="float32")
    assert np.array_equal(back, grid)
    assert take.dither_seed is None


def test_a_gap_stays_exact_silence_in_a_dithered_take(tmp_path: Path) -> None:
    take = TakeFile.create(tmp_path / "g.wav", DITHERED, 2, 48000, dither_seed=3)
    take.write(np.zeros((1000, 2), np.float32), silence=True)
    take.write(np.zeros((1000, 2), np.float32))
    take.close()
    back, _ = sf.read(str(tmp_path / "g.wav"), dtype="int16")
    assert not back[:1000].any()
    # the gap drew nothing: what follows is the seed's first noise
    assert np.array_equal(back[1000:], dithered(np.zeros((1000, 2)), 3, tmp_path).astype(np.int16))
