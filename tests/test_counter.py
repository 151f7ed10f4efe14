"""The counter checker itself, on synthetic recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from jackrec import counter


def recording(start: int, frames: int, channels: int = 3) -> np.ndarray:
    return np.stack([counter.expected(c, start, frames) for c in range(channels)], axis=1)


def test_perfect_recording_is_gapless() -> None:
    report = counter.check(recording(12345, 100_000))
    assert report.gapless and report.net_shift == 0 and len(report.deviant) == 0


def test_lost_frames_are_counted_where_they_happen() -> None:
    data = np.concatenate([recording(0, 1000), recording(1300, 500)])
    report = counter.check(data)
    assert report.discontinuities == [(1000, 300)]
    assert report.lost_frames == 300 and report.net_shift == 300
    assert not report.timeline_kept


def test_repeated_frames_are_counted() -> None:
    data = np.concatenate([recording(0, 1000), recording(900, 500)])
    report = counter.check(data)
    assert report.repeated_frames == 100 and report.discontinuities == [(1000, -100)]


def test_silence_of_exactly_the_lost_length_keeps_the_timeline() -> None:
    data = np.concatenate(
        [recording(0, 1000), np.zeros((300, 3), np.float32), recording(1300, 500)]
    )
    report = counter.check(data)
    assert report.timeline_kept and not report.gapless
    assert report.filled_gaps == [(1000, 300)]


def test_silence_of_the_wrong_length_is_a_discontinuity() -> None:
    data = np.concatenate(
        [recording(0, 1000), np.zeros((200, 3), np.float32), recording(1300, 500)]
    )
    report = counter.check(data)
    assert report.discontinuities == [(1200, 100)] and report.filled_gaps == []


def test_swapped_channels_are_misordered() -> None:
    report = counter.check(recording(0, 1000)[:, [1, 0, 2]])
    assert report.misordered_frames == 1000 and not report.gapless


def test_a_torn_cycle_deviates_without_shifting_the_timeline() -> None:
    data = recording(0, 2048)
    data[512 + 100 : 768, 0] = counter.expected(0, 768 + 100, 156)  # next cycle's values
    report = counter.check(data)
    assert report.net_shift == 0 and not report.gapless
    assert report.deviant_cycles(256) == {2}


def test_a_cycle_overwritten_on_every_channel_is_torn_not_lost() -> None:
    data = recording(0, 2048)
    data[600:768] = recording(600 + 256, 168)  # the next cycle's values, all channels
    report = counter.check(data)
    assert report.torn == [(600, 168)]
    assert report.discontinuities == [] and report.lost_frames == 0
    assert not report.timeline_kept


def test_file_check_streams_across_blocks(tmp_path: Path) -> None:
    data = np.concatenate(
        [recording(0, 1000), np.zeros((300, 3), np.float32), recording(1300, 5000)]
    )
    data = np.concatenate([data[:4000], recording(4500, 700)])  # 500 frames lost at 4000
    path = tmp_path / "counter.wav"
    sf.write(str(path), data, 48000, subtype="FLOAT")
    streamed = counter.check_file(path, block_frames=128)  # runs and jumps span blocks
    whole = counter.check(data)
    assert streamed.filled_gaps == whole.filled_gaps == [(1000, 300)]
    assert streamed.discontinuities == whole.discontinuities == [(4000, 500)]
    assert streamed.frames == len(data)


def test_rounding_errors_are_not_exact() -> None:
    data = recording(0, 100)
    data[50, 1] += 1e-6
    assert not counter.check(data).exact
