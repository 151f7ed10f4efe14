"""The lossy formats and dither, recording the counter on a real JACK server.

Lossy takes cannot be bit-exact: they must have exactly the frames asked
for, each channel close to its own counter (Vorbis and MP3: an SNR against
the counter aligned on the take's first frame, the same on every channel),
or, for Opus, whose encoder takes out DC and the lowest frequencies (its DC
rejection) and so the counter's slow ramp, the ramp's wraps at exactly the
frames the counter puts them on every channel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jackrec import counter
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import RATE, kill_recording, run_jackrec

SECONDS = 3
#: Frames either side of the counter's wrap left out of the SNR (the codecs
#: ring around a full-scale step).
EDGE = 2000


def record(generator: SourceProcess, take: Path, channels: int, *options: str) -> None:
    ports = [arg for port in generator.port_names[:channels] for arg in ("-p", port)]
    result = run_jackrec(
        ["record", "--server", generator.server, "-q", "-d", str(SECONDS), *ports, *options,
         str(take)]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def start_position(data: np.ndarray) -> int:
    """The counter position of file frame 0, from channel 0 (the median of
    what each sample says, so codec noise does not matter)."""
    frames = np.arange(len(data))
    says = (np.rint(data[:, 0].astype(np.float64) * 32768) + 32768 - frames) % counter.PERIOD
    return int(np.median(says))


def snr_db(data: np.ndarray, channel: int, start: int) -> float:
    expected = counter.expected(channel, start, len(data)).astype(np.float64)
    position = (np.arange(len(data)) + start + channel * counter.STRIDE) % counter.PERIOD
    keep = (position > EDGE) & (position < counter.PERIOD - EDGE)
    error = data[keep, channel] - expected[keep]
    return float(10 * np.log10(np.mean(expected[keep] ** 2) / np.mean(error**2)))


@pytest.mark.parametrize(
    ("name", "channels", "container", "subtype", "snr"),
    [("take.ogg", 4, "OGG", "VORBIS", 30.0), ("take.mp3", 2, "MP3", "MPEG_LAYER_III", 20.0)],
)
def test_vorbis_and_mp3_takes_are_exact_in_length_and_close_to_the_counter(
    generator: SourceProcess,
    tmp_path: Path,
    name: str,
    channels: int,
    container: str,
    subtype: str,
    snr: float,
) -> None:
    take = tmp_path / name
    record(generator, take, channels)
    info = sf.info(str(take))
    assert (info.format, info.subtype, info.channels) == (container, subtype, channels)
    assert info.frames == SECONDS * RATE
    data, _ = sf.read(str(take), dtype="float32", always_2d=True)
    start = start_position(data)
    for channel in range(channels):  # the same start on every channel: in order
        assert snr_db(data, channel, start) > snr, channel
    sidecar = read_sidecar(take)
    assert (sidecar["format"], sidecar["subtype"], sidecar["quality"]) == (container, subtype, None)
    assert sidecar["frames"] == SECONDS * RATE


def test_opus_take_is_exact_in_length_and_keeps_the_counters_timeline(
    generator: SourceProcess, tmp_path: Path
) -> None:
    take = tmp_path / "take.opus"
    record(generator, take, 4, "--quality", "0.8")
    info = sf.info(str(take))
    assert (info.format, info.subtype, info.frames) == ("OGG", "OPUS", SECONDS * RATE)
    data, _ = sf.read(str(take), dtype="float32", always_2d=True)
    fall = np.diff(data, axis=0)  # the wrap is the steepest fall
    first = int(np.argmin(fall[: counter.PERIOD, 0])) + 1
    start = -first % counter.PERIOD
    for channel in range(4):
        position = np.arange(len(data)) + start + channel * counter.STRIDE
        wraps = np.flatnonzero(position % counter.PERIOD == 0)
        wraps = wraps[(wraps > 100) & (wraps < len(data) - 100)]
        assert len(wraps) >= 2
        for wrap in wraps:
            found = wrap - 100 + int(np.argmin(fall[wrap - 100 : wrap + 100, channel])) + 1
            assert abs(found - wrap) <= 1, (channel, wrap, found)
    assert read_sidecar(take)["quality"] == 0.8


@pytest.mark.parametrize(
    ("name", "channels", "lost_at_most"),
    # measured here (4 channels of the counter; MP3 2): Vorbis lost 0.16 to
    # 0.21 s (its last unfinished Ogg page), Opus 0.14 s (its page latency
    # and the writer's last block), MP3 0.10 to 0.11 s (LAME's buffer)
    [("killed.ogg", 4, 1.0), ("killed.opus", 4, 0.5), ("killed.mp3", 2, 0.5)],
)
def test_a_killed_lossy_take_reads_back_all_but_its_last_moments(
    generator: SourceProcess, tmp_path: Path, name: str, channels: int, lost_at_most: float
) -> None:
    take = tmp_path / name
    killed_at = kill_recording(
        generator.server, generator.port_names[:channels], take, 4.5
    )  # past 4 s: a sidecar
    sidecar = read_sidecar(take)
    written = sidecar["frames"]  # at least this much was handed over
    recorded = (killed_at - sidecar["start"]["unix_time"]) * RATE  # what JACK delivered
    readable = 0
    with sf.SoundFile(str(take)) as file:  # streamed: the length may be unknown
        while len(block := file.read(8192, dtype="float32")):
            readable += len(block)
    assert written >= 3 * RATE
    # all the sidecar had counted, but the encoder's unfinished page (the
    # sidecar counts what was handed to the encoder)
    assert readable >= written - lost_at_most * RATE, (readable, written)
    assert readable >= recorded - lost_at_most * RATE, (readable, recorded)

    result = run_jackrec(["repair", str(take)])
    assert result.returncode == 1
    assert "Ogg (Vorbis, Opus) and MP3 takes are not repaired" in result.stderr


def test_dithered_16_bit_take_is_the_counter_plus_the_seeds_tpdf_dither(
    generator: SourceProcess, tmp_path: Path
) -> None:
    """The counter lies on the 16-bit grid, so every sample's error is its
    rounded dither: reproduced exactly from the seed in the sidecar."""
    take = tmp_path / "dithered.wav"
    record(generator, take, 2, "--bits", "16", "--dither")
    data, _ = sf.read(str(take), dtype="int16", always_2d=True)
    assert len(data) == SECONDS * RATE
    dither = read_sidecar(take)["dither"]
    assert (dither["type"], dither["lsb"]) == ("tpdf", 1)
    draws = np.random.default_rng(dither["seed"]).random((len(data), 2, 2))
    noise = np.rint(draws[..., 0] - draws[..., 1])
    start = start_position(data.astype(np.float32) / 32768)
    clean = np.stack([counter.expected(c, start, len(data)) for c in range(2)], axis=1) * 32768
    expected = np.clip(clean + noise, -32768, 32767).astype(np.int16)
    assert np.array_equal(data, expected)
    error = data.astype(np.int64) - clean
    shares = [np.mean(error == e) for e in (-1, 0, 1)]
    assert np.allclose(shares, [1 / 8, 3 / 4, 1 / 8], atol=0.01)


def test_16_bits_without_dither_stay_bit_exact(generator: SourceProcess, tmp_path: Path) -> None:
    take = tmp_path / "plain.wav"
    record(generator, take, 2, "--bits", "16")
    data, _ = sf.read(str(take), dtype="float32")
    assert counter.check(data).gapless and counter.check(data).exact
    assert "dither" not in read_sidecar(take)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--bits", "24"], "--bits does not apply to a lossy format"),
        (["--format", "mp3", "--split", "1-3,4"], "--split group 1-3 is wider than the 2"),
        (["--format", "wav", "--quality", "0.5"], "--quality applies to the lossy formats only"),
        (["--format", "wav", "--dither"], "--dither applies to 16-bit takes only"),
    ],
)
def test_options_that_do_not_apply_are_refused(
    generator: SourceProcess, tmp_path: Path, options: list[str], message: str
) -> None:
    take = tmp_path / "take.ogg"
    ports = [arg for port in generator.port_names[:4] for arg in ("-p", port)]
    result = run_jackrec(["record", "--server", generator.server, *ports, *options, str(take)])
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"jackrec: error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not take.exists()
