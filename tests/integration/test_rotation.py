"""Rotation in ``jackrec record``: takes cut at exact frames, joined they are one take."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from jackrec import counter
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import RATE, run_jackrec

CHANNELS = 4
CLOCK_SLACK = 0.25  # seconds a clock-planned cut may miss its second by (see below)


def record(generator: SourceProcess, *options: str) -> list[dict[str, object]]:
    """Run ``jackrec record`` on the generator's first channels; its JSON summaries."""
    ports = [arg for port in generator.port_names[:CHANNELS] for arg in ("-p", port)]
    result = run_jackrec(["record", "--server", generator.server, *ports, "--json", *options])
    assert result.returncode == 0, result.stderr
    summaries = json.loads(result.stdout)
    assert isinstance(summaries, list)
    return summaries


def joined(paths: list[Path]) -> np.ndarray:
    return np.concatenate([sf.read(str(path), dtype="float32")[0] for path in paths])


def test_takes_cut_by_length_join_into_one_gapless_recording(
    generator: SourceProcess, tmp_path: Path
) -> None:
    summaries = record(generator, "--rotate", "1", "-d", "3.5", str(tmp_path / "log.wav"))
    paths = [Path(str(s["file"])) for s in summaries]
    assert [p.name for p in paths] == ["log-001.wav", "log-002.wav", "log-003.wav", "log-004.wav"]
    assert [s["frames"] for s in summaries] == [RATE, RATE, RATE, RATE // 2]
    assert [s["ended_by"] for s in summaries] == ["rotated"] * 3 + ["duration"]
    report = counter.check(joined(paths))
    assert report.gapless and report.channels_in_order, report
    # each take begins at the frame where the one before ended
    starts = [read_sidecar(p)["start"]["stream_frame"] for p in paths]
    assert np.diff(starts).tolist() == [RATE] * 3
    assert sorted(q.name for q in tmp_path.iterdir()) == sorted(
        [p.name for p in paths] + [f"{p.name}.json" for p in paths]
    )  # no take created for after the end


def test_takes_cut_by_size_hold_at_most_that_many_sample_bytes(
    generator: SourceProcess, tmp_path: Path
) -> None:
    size = 200 * 1024  # 12800 frames of 4 float channels
    summaries = record(
        generator, "--rotate-size", "200K", "-d", "1", "-b", "16", str(tmp_path / "s.wav")
    )
    per_take = size // (CHANNELS * 2)
    frames = [s["frames"] for s in summaries]
    assert frames == [per_take] * (RATE // per_take) + [RATE % per_take]
    data = joined([Path(str(s["file"])) for s in summaries])
    assert len(data) == RATE
    assert counter.check(data).channels_in_order


def test_takes_cut_on_the_clock_begin_on_whole_seconds_and_are_named_by_template(
    generator: SourceProcess, tmp_path: Path
) -> None:
    template = str(tmp_path / "{client}-%Y%m%d-%H%M%S-{n:02}.flac")
    summaries = record(
        generator, "--rotate", "1", "--rotate-at-clock", "-d", "3", "--name-template", template
    )
    paths = [Path(str(s["file"])) for s in summaries]
    assert len(paths) in (3, 4)  # the first and last takes are parts of seconds
    began = [read_sidecar(path)["start"]["unix_time"] for path in paths]
    for number, (path, unix_time) in enumerate(zip(paths, began, strict=True), 1):
        # named when created: for the first take, just before it began
        seconds = [round(unix_time)] if number > 1 else [unix_time, unix_time - 1]
        names = [time.strftime(f"jackrec-%Y%m%d-%H%M%S-{number:02}.flac", time.localtime(s))
                 for s in seconds]  # fmt: skip
        assert path.name in names
        if number > 1:  # a cut: on the second, as JACK's clock maps frames to it
            assert abs(unix_time - round(unix_time)) < CLOCK_SLACK, unix_time
    # a cut is planned up to 2 s ahead from JACK's clock estimate; a dummy server
    # stalled meanwhile by a loaded machine falls behind the wall clock (measured
    # up to 0.1 s; a CI run once saw more than 1 % of a second), so each cut may
    # miss its second by that much, and a take's length by twice that
    seconds_apart = np.diff([round(t) for t in began[1:]])
    assert seconds_apart.tolist() == [1] * (len(began) - 2)
    assert all(abs(int(str(s["frames"])) - RATE) < 2 * CLOCK_SLACK * RATE for s in summaries[1:-1])
    # and every cut is sample-exact: each take begins where the one before ended
    starts = [read_sidecar(p)["start"]["stream_frame"] for p in paths]
    assert np.diff(starts).tolist() == [s["frames"] for s in summaries[:-1]]
    report = counter.check(joined(paths))
    assert report.gapless, report
