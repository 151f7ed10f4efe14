"""Recording the counter client on a real JACK server: bit-exact and gapless."""

from __future__ import annotations

import itertools
import json
import random
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from jackrec import counter
from jackrec.jackserver import DummyServer
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import (
    PERIOD,
    RATE,
    jackrec_command,
    let_it_record,
    run_jackrec,
    start_generator,
    stop_process,
)

SECONDS = 3

FORMATS = [
    # (file name, extra options, libsndfile format, subtype); FLAC holds
    # at most 8 channels, so its "64 channels" run records 8
    ("take.wav", [], "WAV", "FLOAT"),
    ("take.rf64", [], "RF64", "FLOAT"),
    ("take.w64", [], "W64", "FLOAT"),
    ("take.flac", ["--bits", "16"], "FLAC", "PCM_16"),
]


def port_options(generator: SourceProcess, channels: int) -> list[str]:
    if channels == generator.channels:
        return ["-p", f"{generator.name}:*"]
    return [arg for port in generator.port_names[:channels] for arg in ("-p", port)]


@pytest.mark.parametrize("channels", [2, 64])
@pytest.mark.parametrize(("name", "options", "container", "subtype"), FORMATS)
def test_recording_is_bit_exact_and_gapless(
    generator: SourceProcess,
    tmp_path: Path,
    channels: int,
    name: str,
    options: list[str],
    container: str,
    subtype: str,
) -> None:
    if container == "FLAC":
        channels = min(channels, 8)
    take = tmp_path / name
    result = run_jackrec(
        [
            "record",
            "--server",
            generator.server,
            *port_options(generator, channels),
            "--duration",
            str(SECONDS),
            "--json",
            *options,
            str(take),
        ]
    )
    assert result.returncode == 0, result.stderr

    info = sf.info(str(take))
    assert (info.format, info.subtype) == (container, subtype)
    assert (info.channels, info.samplerate) == (channels, RATE)
    assert info.frames == SECONDS * RATE  # --duration is frame-exact

    data, _ = sf.read(str(take), dtype="float32")
    report = counter.check(data)
    assert report.gapless, report
    assert report.silence_runs == []

    summary = json.loads(result.stdout)
    assert summary["frames"] == SECONDS * RATE
    assert summary["frames_lost"] == 0 and summary["gaps"] == []

    sidecar = read_sidecar(take)
    assert sidecar["complete"] is True
    assert (sidecar["sample_rate"], sidecar["period"]) == (RATE, PERIOD)
    assert sidecar["frames"] == SECONDS * RATE
    assert [c["sources"] for c in sidecar["channels"]] == [
        [port] for port in generator.port_names[:channels]
    ]
    assert isinstance(sidecar["start"]["jack_frame_time"], int)
    # the counter reaches -1.0 (full scale) once every 65536 frames a channel
    clips = (np.abs(data) >= 1.0).sum(axis=0)
    assert [c["clips"] for c in sidecar["channels"]] == clips.tolist()
    assert all(clips >= 2) and [c["peak_dbfs"] for c in sidecar["channels"]] == [0.0] * channels


def test_ports_are_connected_in_the_order_given(generator: SourceProcess, tmp_path: Path) -> None:
    take = tmp_path / "swapped.wav"
    ports = [f"{generator.name}:out_3", f"{generator.name}:out_1"]
    result = run_jackrec(
        [
            "record",
            "--server",
            generator.server,
            "-p",
            ports[0],
            "-p",
            ports[1],
            "--duration",
            "1",
            "-q",
            str(take),
        ]
    )
    assert result.returncode == 0, result.stderr
    data, _ = sf.read(str(take), dtype="float32")
    # channel 1 carries out_3's counter: two strides ahead of out_1's
    reordered = data[:, [1, 0]]
    assert counter.check(reordered).channels_in_order is False
    positions = ((data * 32768).round().astype(int) + 32768) % counter.PERIOD
    assert ((positions[:, 0] - positions[:, 1]) % counter.PERIOD == 2 * counter.STRIDE).all()
    assert read_sidecar(take)["channels"][0]["sources"] == [ports[0]]


def test_regex_patterns_select_ports(generator: SourceProcess, tmp_path: Path) -> None:
    take = tmp_path / "regex.wav"
    result = run_jackrec(
        [
            "record",
            "--server",
            generator.server,
            "-p",
            f"re:^{generator.name}:out_[12]$",
            "--duration",
            "0.5",
            "-q",
            str(take),
        ]
    )
    assert result.returncode == 0, result.stderr
    assert sf.info(str(take)).channels == 2
    assert counter.check(sf.read(str(take), dtype="float32")[0]).gapless


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_open_ended_take_stops_cleanly_on_signal(
    generator: SourceProcess, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    """Without --duration a .wav is written as RF64 and closed as plain WAV."""
    take = tmp_path / "open.wav"
    process = subprocess.Popen(
        jackrec_command(
            "record",
            "--server",
            generator.server,
            *port_options(generator, 2),
            "--json",
            str(take),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        let_it_record(take, 1.5)
        process.send_signal(stop_signal)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        stop_process(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    summary = json.loads(stdout)
    info = sf.info(str(take))
    assert take.read_bytes()[:4] == b"RIFF"  # RF64 auto-downgraded
    assert info.format == "WAVEX"
    assert read_sidecar(take)["format"] == "WAV"  # what the file became
    assert info.frames == summary["frames"] > RATE
    assert counter.check(sf.read(str(take), dtype="float32")[0]).gapless


@pytest.mark.parametrize(
    ("channels", "pattern", "connected", "warning"),
    [
        (2, "out_[1-4]", 2, "4 ports match; recording the first 2 (--channels)"),
        (
            4,
            "out_[12]",
            2,
            "2 port(s) match for 4 channels: the other 2 stay unconnected (silent until patched)",
        ),
    ],
)
def test_channels_take_the_first_matches_in_order(
    generator: SourceProcess,
    tmp_path: Path,
    channels: int,
    pattern: str,
    connected: int,
    warning: str,
) -> None:
    """One rule, as jack_capture's: --channels N connects the first N matches."""
    take = tmp_path / "first.wav"
    result = run_jackrec(
        ["record", "--server", generator.server, "-c", str(channels), "-p",
         f"{generator.name}:{pattern}", "--duration", "0.5", "-q", str(take)]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"jackrec: warning: {warning}"
    data, _ = sf.read(str(take), dtype="float32")
    assert data.shape[1] == channels
    assert counter.check(data[:, :connected]).gapless
    assert not data[:, connected:].any()
    sources = [c["sources"] for c in read_sidecar(take)["channels"]]
    assert sources == [[port] for port in generator.port_names[:connected]] + [[]] * (
        channels - connected
    )


def test_signal_stops_end_on_the_sources_frames(generator: SourceProcess, tmp_path: Path) -> None:
    """A stop by signal ends the take before JACK disconnects the ports.

    Deactivating a client disconnects its ports one by one while its
    callback still runs; a take that went on capturing until then ended in
    up to two periods of zeros (on some channels only, at times).  With 8
    channels that happened in about half of all signal stops.
    """
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP] * 5
    random.seed(8)
    for stop, number in zip(signals, itertools.count()):
        take = tmp_path / f"stop{number}.wav"
        process = subprocess.Popen(
            jackrec_command(
                "record", "--server", generator.server, *port_options(generator, 8),
                "-q", str(take),
            ),
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            let_it_record(take, 0.3 + random.random() * 0.3)
            process.send_signal(stop)
            _, stderr = process.communicate(timeout=20)
        finally:
            stop_process(process)
        assert process.returncode == 0, stderr
        data, _ = sf.read(str(take), dtype="float32")
        report = counter.check(data)
        assert report.gapless and report.silence_runs == [], (stop, report)
        assert report.deviant.size == 0, (stop, report.deviant[:4], len(data))
        sidecar = read_sidecar(take)
        assert sidecar["complete"] and sidecar["frames"] == len(data)


def test_settings_file_supplies_ports_and_bits(generator: SourceProcess, tmp_path: Path) -> None:
    settings = tmp_path / "config.toml"
    settings.write_text(f'ports = ["{generator.name}:out_[1-3]"]\nbits = "16"\n')
    take = tmp_path / "configured.wav"
    result = run_jackrec(
        ["--config", str(settings), "record", "--server", generator.server,
         "--duration", "0.5", "-q", str(take)]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    info = sf.info(str(take))
    assert (info.channels, info.subtype) == (3, "PCM_16")
    assert counter.check_file(take).gapless


def test_wait_connects_sources_that_come_later_in_order(
    jack_server: DummyServer, tmp_path: Path
) -> None:
    """``--wait``: a pattern that matches nothing yet starts the take on silent
    inputs; the ports that appear are connected in order, and from the first
    frame all of them reach on, the take is the counter, gapless, channels in
    order."""
    take = tmp_path / "take.wav"
    process = subprocess.Popen(
        jackrec_command("record", "--server", jack_server.name, "--wait", "-c", "3",
                        "-p", "late:out_*", str(take)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        let_it_record(take, 0.5)
        late = start_generator(jack_server.name, 4, "late")
        try:
            time.sleep(1.5)
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=20)
        finally:
            late.stop()
    finally:
        stop_process(process)
    assert process.returncode == 0, stderr
    assert "0 port(s) match for 3 channels" in stderr
    data, _ = sf.read(str(take), dtype="float32")
    # connected one by one, the sources reach the take a cycle or two apart
    arrived = int(np.argmax(np.all(data != 0, axis=1)))
    assert 0.4 * RATE < arrived < len(data) - RATE  # silence, then a second of the counter
    report = counter.check(data[arrived:])
    assert report.gapless and report.exact and report.channels_in_order, report


def test_wait_without_channels_is_one_line() -> None:
    result = run_jackrec(["record", "--wait", "-p", "late:*", "take.wav"])
    assert result.returncode == 2
    assert result.stderr == (
        "jackrec: error: --wait needs --channels: a take's width is fixed before its sources come\n"
    )
