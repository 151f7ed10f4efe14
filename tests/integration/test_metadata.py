"""Broadcast WAV metadata and latency alignment on a real server, with the counter.

bext is read back by libsndfile, iXML and the cue points by the tests' own
chunk parser and by ``jackrec markers``; each must say exactly what the
take's sidecar says.  Alignment is checked sample by sample: the counter
tells which source frame each sample is.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import jack
import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from jackrec import counter
from jackrec.bwf import read_broadcast_info, samples_since_midnight
from jackrec.session import Session, SessionOptions
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from jackrec.status import format_clock
from jackrec.take import Take
from jackrec.takefile import FileFormat
from tests.conftest import RATE, open_session, run_jackrec
from tests.test_bwf import chunks_of

LATENCIES = [0, 256, 1000]  # what the latent counter's ports declare
DELAYS = [1000, 744, 0]  # so each channel is delayed behind the latest


def wait_for(take: Take, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while take.ended_by is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert take.ended_by is not None


@pytest.mark.parametrize(
    "file_format", [FileFormat("WAV", "FLOAT"), FileFormat("RF64", "PCM_24")], ids=str
)
def test_bext_ixml_and_cue_points_say_what_the_sidecar_says(
    generator: SourceProcess, tmp_path: Path, file_format: FileFormat
) -> None:
    path = tmp_path / "take.wav"
    session = open_session(generator, "jackrec-metadata")
    snare = session.client.get_port_by_name(generator.port_names[1])
    session.client.set_property(snare, jack.METADATA_PRETTY_NAME, "Snare Top")
    try:
        take = session.new_take(path, file_format)
        session.record(take)
        time.sleep(0.4)
        session.marker("verse")
        time.sleep(0.3)
        session.marker("chorus & <bridge>")
        time.sleep(0.3)
        session.stop()
        wait_for(take)
    finally:
        session.client.remove_property(snare, jack.METADATA_PRETTY_NAME)
        session.close()
    sidecar = read_sidecar(path)
    assert sidecar["complete"] and sidecar["error"] is None
    assert counter.check_file(path).gapless

    names = [channel["name"] for channel in sidecar["channels"]]
    assert names == ["counter:out_1", "Snare Top", "counter:out_3", "counter:out_4"]

    bext = sidecar["bext"]
    with sf.SoundFile(path) as handle:
        assert read_broadcast_info(handle._file) == bext
    local_start = dt.datetime.fromtimestamp(sidecar["start"]["unix_time"])
    assert bext["time_reference"] == sidecar["start"]["time_reference"]
    assert bext["time_reference"] == samples_since_midnight(local_start, RATE)
    assert bext["origination_date"] == local_start.strftime("%Y-%m-%d")
    assert bext["origination_time"] == local_start.strftime("%H:%M:%S")
    assert bext["originator"] == "jackrec"
    assert bext["description"] == f"take.wav: 4 ch: {', '.join(names)}"

    chunks = dict(chunks_of(path))
    document = chunks[b"iXML"]
    ixml = ET.fromstring(document[: document.rindex(b">") + 1])
    assert ixml.findtext("SPEED/FILE_SAMPLE_RATE") == str(sidecar["sample_rate"])
    bits = {"FLOAT": "32", "PCM_24": "24"}[sidecar["subtype"]]
    assert ixml.findtext("SPEED/AUDIO_BIT_DEPTH") == bits
    assert ixml.findtext("SPEED/TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO") == str(bext["time_reference"])
    assert [track.findtext("NAME") for track in ixml.iterfind("TRACK_LIST/TRACK")] == names

    listed = json.loads(run_jackrec(["markers", "--json", str(path)]).stdout)
    assert listed["from"] == "file" and listed["sample_rate"] == RATE
    assert [(c["frame"], c["kind"], c["label"]) for c in listed["cues"]] == [
        (m["file_frame"], "marker", m["label"]) for m in sidecar["markers"]
    ]
    assert [m["label"] for m in sidecar["markers"]] == ["verse", "chorus & <bridge>"]
    first = sidecar["markers"][0]["file_frame"]
    line = run_jackrec(["markers", str(path)]).stdout.splitlines()[0]
    assert line.split() == [str(first), format_clock(first / RATE, decimals=3), "marker", "verse"]


def test_a_w64_take_lists_its_sidecar_markers(generator: SourceProcess, tmp_path: Path) -> None:
    """No cue points in W64: the sidecar has them, and ``jackrec markers`` says so."""
    path = tmp_path / "take.w64"
    session = open_session(generator, "jackrec-metadata")
    try:
        take = session.new_take(path, FileFormat("W64", "FLOAT"))
        session.record(take)
        time.sleep(0.3)
        session.marker("here")
        time.sleep(0.2)
        session.stop()
        wait_for(take)
    finally:
        session.close()
    sidecar = read_sidecar(path)
    assert "bext" not in sidecar and sidecar["start"]["time_reference"] > 0
    listed = json.loads(run_jackrec(["markers", "--json", str(path)]).stdout)
    assert listed["from"] == "sidecar"
    assert [(c["frame"], c["label"]) for c in listed["cues"]] == [
        (sidecar["markers"][0]["file_frame"], "here")
    ]


@pytest.fixture(scope="module")
def latent_counter(generator: SourceProcess) -> Iterator[SourceProcess]:
    """A counter whose three ports declare capture latencies of 0, 256 and 1000 frames."""
    source = SourceProcess(
        generator.server, len(LATENCIES), name="latent-counter", latencies=LATENCIES
    ).start()
    yield source
    source.stop()


def source_positions(path: Path) -> npt.NDArray[np.int64]:
    """The counter position of every sample (channel c is the source's out_{c+1})."""
    data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    k = np.rint(data.astype(np.float64) * 32768).astype(np.int64)
    offsets = np.arange(data.shape[1]) * counter.STRIDE
    return np.asarray((k + 32768 - offsets) % counter.PERIOD)


def test_align_delays_each_channel_behind_the_latest(
    latent_counter: SourceProcess, tmp_path: Path
) -> None:
    """File frame f of channel c is stream frame s0 + f - d_c; rotated takes join exactly."""
    session = Session(
        SessionOptions(
            ports=tuple(latent_counter.port_names),
            server=latent_counter.server,
            client_name="jackrec-align",
            align=True,
        )
    ).open()
    try:
        first = session.new_take(tmp_path / "a.wav", FileFormat("WAV", "FLOAT"))
        second = session.new_take(tmp_path / "b.wav", FileFormat("WAV", "FLOAT"))
        session.record(first)
        time.sleep(0.6)
        session.rotate(second)
        time.sleep(0.6)
        session.stop()
        wait_for(second)
    finally:
        session.close()
    sidecar = read_sidecar(second.path)
    assert sidecar["aligned"] is True
    assert [c["capture_latency"] for c in sidecar["channels"]] == [[n, n] for n in LATENCIES]
    assert [c["align_delay"] for c in sidecar["channels"]] == DELAYS

    a, b = source_positions(first.path), source_positions(second.path)
    latest = len(LATENCIES) - 1  # undelayed: the stream itself, gapless
    joined = np.concatenate((a[:, latest], b[:, latest]))
    assert (np.diff(joined) % counter.PERIOD == 1).all()
    data, _ = sf.read(str(first.path), dtype="float32", always_2d=True)
    for channel, delay in enumerate(DELAYS):
        # the session's first take: nothing was captured before its first frame
        assert (data[:delay, channel] == 0).all()
        behind = (a[delay:, latest] - a[delay:, channel]) % counter.PERIOD
        assert (behind == delay).all()
        # the next take goes on with the frames before its start: nothing lost or doubled
        assert ((b[:, latest] - b[:, channel]) % counter.PERIOD == delay).all()
        joined = np.concatenate((a[delay:, channel], b[:, channel]))
        assert (np.diff(joined) % counter.PERIOD == 1).all()
