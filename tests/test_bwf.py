"""Broadcast WAV metadata without JACK: bext, iXML, cue points, appending chunks.

Files are written by jackrec's own `TakeFile` and read back by libsndfile
(bext, WAV cue points), by a chunk parser of the test's own, and by
`jackrec.repair` (which must see a finished file as consistent, and
complete one whose appended chunks were never counted).
"""

from __future__ import annotations

import datetime as dt
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import cffi
import numpy as np
import pytest
import soundfile as sf

from jackrec import bwf
from jackrec.errors import JackrecError
from jackrec.repair import examine, fix_header
from jackrec.takefile import FileFormat, TakeFile

RATE = 48000

# libsndfile's SF_CUES (sndfile.h), to read cue points with libsndfile itself
CUES_FFI = cffi.FFI()
CUES_FFI.cdef(
    """
    typedef struct {
        int32_t indx; uint32_t position; int32_t fcc_chunk; int32_t chunk_start;
        int32_t block_start; uint32_t sample_offset; char name[256];
    } SF_CUE_POINT;
    typedef struct { uint32_t cue_count; SF_CUE_POINT cue_points[100]; } SF_CUES;
    """
)
SFC_GET_CUE = 0x10CE

CUES = [
    bwf.Cue(0, "marker", "top"),
    bwf.Cue(1000, "gap", "gap: 256 frames lost"),
    bwf.Cue(1000, "marker", "Übergang"),
    bwf.Cue(4999, "xrun", "xrun: 1234.5 us late"),
]


def chunks_of(path: Path) -> list[tuple[bytes, bytes]]:
    """Every chunk of a RIFF/RF64 file, (id, payload), by a parser of the test's own."""
    data = path.read_bytes()
    riff_size = struct.unpack_from("<I", data, 4)[0]
    ds64_sizes = None
    chunks, offset = [], 12
    if data[:4] == b"RF64":
        riff_size, data_size = struct.unpack_from("<QQ", data, 20)
        ds64_sizes = data_size
    assert riff_size + 8 == len(data), "the container's size is the file's"
    while offset < len(data):
        ident, size = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        if ident == b"data" and ds64_sizes is not None:
            size = ds64_sizes
        chunks.append((ident, data[offset + 8 : offset + 8 + size]))
        offset += 8 + size + (size & 1)
    assert offset == len(data)
    return chunks


def write_take(path: Path, container: str, subtype: str, frames: int, channels: int) -> TakeFile:
    take = TakeFile.create(path, FileFormat(container, subtype), channels, RATE)
    take.write(np.full((frames, channels), 0.25, np.float32))
    return take


def libsndfile_cues(path: Path) -> list[tuple[int, str]]:
    with sf.SoundFile(path) as handle:
        cues = CUES_FFI.new("SF_CUES *")
        assert sf._snd.sf_command(handle._file, SFC_GET_CUE, cues, CUES_FFI.sizeof("SF_CUES"))
        points = cues.cue_points[0 : cues.cue_count]
        return [(p.sample_offset, CUES_FFI.string(p.name).decode()) for p in points]


@pytest.mark.parametrize(
    ("container", "subtype", "channels", "frames"),
    [("WAV", "FLOAT", 2, 5000), ("RF64", "PCM_24", 1, 5001), ("WAV", "PCM_24", 1, 5001)],
)
def test_appended_chunks_are_counted_and_read_back(
    tmp_path: Path, container: str, subtype: str, channels: int, frames: int
) -> None:
    """RIFF or ds64 size counts them, an odd data chunk keeps its pad byte, audio unchanged."""
    path = tmp_path / f"take.{container.lower()}"
    write_take(path, container, subtype, frames, channels).close()
    before = sf.read(path, dtype="float32")[0]
    ixml = bwf.ixml(["Kick & <Snare>"] * channels, range(3, 3 + channels), RATE, subtype, None)
    bwf.append_chunks(path, bwf.cue_chunks(CUES) + ixml)

    ids = [ident for ident, _ in chunks_of(path)]
    assert ids[-3:] == [b"cue ", b"LIST", b"iXML"]
    assert examine(path).consistent and examine(path).frames == frames
    np.testing.assert_array_equal(sf.read(path, dtype="float32")[0], before)
    cues, rate = bwf.read_cues(path) or ([], 0)
    assert rate == RATE
    assert cues == sorted(CUES, key=lambda cue: cue.frame)
    if container == "WAV":  # libsndfile reads no cue points in RF64
        assert libsndfile_cues(path) == [(cue.frame, cue.label) for cue in cues]


def test_the_ixml_document(tmp_path: Path) -> None:
    info = bwf.BroadcastInfo.of("take.wav: 2 ch", "ref", 1_700_000_000.25, RATE)
    chunk = bwf.ixml(["Kick In", "snare:out"], [5, 9], RATE, "PCM_24", info)
    assert chunk[:4] == b"iXML" and len(chunk) % 2 == 0
    size = struct.unpack_from("<I", chunk, 4)[0]
    document = chunk[8 : 8 + size]
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(document)
    assert root.findtext("SPEED/FILE_SAMPLE_RATE") == "48000"
    assert root.findtext("SPEED/AUDIO_BIT_DEPTH") == "24"
    assert int(root.findtext("SPEED/TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO") or -1) == (
        info.time_reference
    )
    tracks = [
        (t.findtext("CHANNEL_INDEX"), t.findtext("INTERLEAVE_INDEX"), t.findtext("NAME"))
        for t in root.iterfind("TRACK_LIST/TRACK")
    ]
    assert tracks == [("5", "1", "Kick In"), ("9", "2", "snare:out")]


def test_bext_is_set_before_the_first_write_and_read_back_by_libsndfile(tmp_path: Path) -> None:
    path = tmp_path / "take.wav"
    take = TakeFile.create(path, FileFormat("RF64", "FLOAT", rf64_downgrade=True), 2, RATE)
    info = bwf.BroadcastInfo.of("é" * 200, "0123456789abcdef" * 2, 1_700_000_000.5, RATE)
    take.set_broadcast_info(info)
    take.write(np.zeros((100, 2), np.float32))
    take.close()
    late = write_take(tmp_path / "late.wav", "WAV", "FLOAT", 100, 2)
    with pytest.raises(JackrecError, match="refused"):
        late.set_broadcast_info(info)  # frames written: too late
    late.close()
    assert len(info.description.encode()) <= 256  # cut on a character boundary
    with sf.SoundFile(path) as handle:
        assert bwf.read_broadcast_info(handle._file) == info.to_json()
    assert info.originator == "jackrec"


def test_time_reference_is_the_clock_time_of_day_in_samples() -> None:
    local = dt.datetime(2024, 3, 31, 13, 2, 3, 500000)
    assert bwf.samples_since_midnight(local, RATE) == (13 * 3600 + 2 * 60 + 3.5) * RATE
    unix_time = dt.datetime(2024, 1, 2, 3, 4, 5, 250000).timestamp()  # local time
    info = bwf.BroadcastInfo.of("d", "r", unix_time, 44100)
    assert (info.origination_date, info.origination_time) == ("2024-01-02", "03:04:05")
    assert info.time_reference == round((3 * 3600 + 4 * 60 + 5.25) * 44100)


def test_cue_points_past_32_bits_are_left_out() -> None:
    chunks = bwf.cue_chunks([bwf.Cue(2**32, "marker", "late"), bwf.Cue(5, "xrun", "x")])
    assert struct.unpack_from("<I", chunks, 8)[0] == 1
    assert bwf.cue_chunks([]) == b""


def test_cues_of_a_sidecar_are_in_frame_order() -> None:
    sidecar = {
        "markers": [{"file_frame": 70, "label": "b", "unix_time": 0.0}],
        "gaps": [{"file_frame": 10, "frames": 5, "jack_frame_time": 0}],
        "xruns": [{"file_frame": 70, "delay_us": 12.0}],
    }
    assert bwf.cues_of(sidecar) == [
        bwf.Cue(10, "gap", "gap: 5 frames lost"),
        bwf.Cue(70, "marker", "b"),
        bwf.Cue(70, "xrun", "xrun: 12 us late"),
    ]


@pytest.mark.parametrize("container", ["WAV", "RF64"])
def test_a_take_stopped_before_its_size_counted_the_chunks_is_completed_by_repair(
    tmp_path: Path, container: str
) -> None:
    """Chunks written, size not yet patched: repair counts them and leaves the audio."""
    path = tmp_path / "take.wav"
    write_take(path, container, "PCM_16", 3001, 1).close()
    finalized = path.read_bytes()
    bwf.append_chunks(path, bwf.cue_chunks(CUES))
    finished = path.read_bytes()
    # as the file was between writing the chunks and counting them
    size_at = 20 if container == "RF64" else 4
    size_bytes = 8 if container == "RF64" else 4
    interrupted = bytearray(finished)
    interrupted[size_at : size_at + size_bytes] = finalized[size_at : size_at + size_bytes]
    path.write_bytes(interrupted)

    assert fix_header(path) == 3001
    assert path.read_bytes() == finished


def test_appending_to_a_file_that_does_not_end_with_its_container_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "take.wav"
    write_take(path, "WAV", "PCM_16", 100, 1).close()
    with path.open("ab") as file:
        file.write(b"\0\0\0\0")  # a recorder's unfinished frames
    before = path.read_bytes()
    with pytest.raises(JackrecError, match="does not end where"):
        bwf.append_chunks(path, bwf.cue_chunks(CUES))
    assert path.read_bytes() == before
