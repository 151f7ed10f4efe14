"""Broadcast WAV metadata in WAV and RF64 takes: bext, iXML and cue points.

- **bext** (EBU Tech 3285) is written by libsndfile, which takes it only
  before the first frame is written: `set_broadcast_info` is called when the
  writer begins the take (`jackrec.take.Take.begin`), the moment its first
  frame and that frame's wall-clock time are known.  Its TimeReference is
  that frame as samples since local midnight.
- **iXML** (the track names, sample rate, bit depth and the same time
  reference) and the **cue points** (``cue `` with a ``LIST``/``adtl`` of
  ``labl`` labels and ``note`` kinds: user markers, overflow gaps, JACK
  xruns) are known only when the take ends, and libsndfile writes neither:
  `append_chunks` appends them after the data of the finalized file and
  counts them in the container's size (the RIFF size, or RF64's ``ds64``).
  The chunks are written first, then the size: a recorder stopped between
  the two leaves a file that `jackrec.repair` recognizes and completes.

Cue point positions are 32-bit: a cue past 2**32 - 1 frames (24.8 hours
at 48 kHz) is left out of the file.  W64, CAF and FLAC takes carry none of
this: their sidecar holds it, as every take's does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import struct
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cffi
import soundfile as sf

from jackrec.errors import JackrecError
from jackrec.repair import (
    RIFF_LAYOUT,
    RepairError,
    mapped,
    read_wave_header,
    walk_chunks,
)

#: The containers that carry bext, iXML and cue points.
CONTAINERS = ("WAV", "RF64")
ORIGINATOR = "jackrec"
#: bext's text fields, in bytes (EBU Tech 3285).
DESCRIPTION_BYTES = 256
DATE_FORMAT, TIME_FORMAT = "%Y-%m-%d", "%H:%M:%S"
IXML_VERSION = "2.10"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
#: Bits per sample of each subtype, for iXML.
BIT_DEPTHS = {"PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "FLOAT": 32}
CUE_LIMIT = 2**32 - 1  # a cue point's position is a 32-bit frame count
# libsndfile commands (sndfile.h)
SFC_GET_BROADCAST_INFO = 0x10F0
SFC_SET_BROADCAST_INFO = 0x10F1
BEXT_VERSION = 1  # no loudness fields

# SF_BROADCAST_INFO (sndfile.h), which soundfile does not declare.
_ffi = cffi.FFI()
_ffi.cdef(
    """
    typedef struct {
        char description[256];
        char originator[32];
        char originator_reference[32];
        char origination_date[10];
        char origination_time[8];
        uint32_t time_reference_low;
        uint32_t time_reference_high;
        short version;
        char umid[64];
        int16_t loudness_value, loudness_range, max_true_peak_level,
            max_momentary_loudness, max_shortterm_loudness;
        char reserved[180];
        uint32_t coding_history_size;
        char coding_history[256];
    } SF_BROADCAST_INFO;
    """
)


@dataclass(frozen=True)
class BroadcastInfo:
    """What a take's bext chunk says (and its sidecar's ``bext``)."""

    description: str
    originator_reference: str
    origination_date: str
    origination_time: str
    time_reference: int
    originator: str = ORIGINATOR

    @classmethod
    def of(cls, description: str, reference: str, unix_time: float, rate: int) -> BroadcastInfo:
        """The bext of a take whose first frame was at `unix_time` (local time of day)."""
        local = dt.datetime.fromtimestamp(unix_time)
        return cls(
            description=fit(description, DESCRIPTION_BYTES),
            originator_reference=reference,
            origination_date=local.strftime(DATE_FORMAT),
            origination_time=local.strftime(TIME_FORMAT),
            time_reference=samples_since_midnight(local, rate),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "originator": self.originator,
            "originator_reference": self.originator_reference,
            "origination_date": self.origination_date,
            "origination_time": self.origination_time,
            "time_reference": self.time_reference,
        }

    def set_on(self, handle: Any) -> None:
        """Give an open libsndfile handle (before its first write) this bext.

        Raises
        ------
        JackrecError
            When libsndfile refuses (not WAV or RF64, or frames written).
        """
        info = _ffi.new("SF_BROADCAST_INFO *")
        info.description = self.description.encode()
        info.originator = self.originator.encode()
        info.originator_reference = self.originator_reference.encode()
        info.origination_date = self.origination_date.encode()
        info.origination_time = self.origination_time.encode()
        info.time_reference_low = self.time_reference & 0xFFFFFFFF
        info.time_reference_high = self.time_reference >> 32
        info.version = BEXT_VERSION
        if not sf._snd.sf_command(handle, SFC_SET_BROADCAST_INFO, info, _ffi.sizeof(info[0])):
            raise JackrecError("libsndfile refused the bext chunk")


def samples_since_midnight(local: dt.datetime, rate: int) -> int:
    """Samples at `rate` from midnight to `local`, by the clock's time of day.

    The time of day, as timecode counts it (on a day the clocks change it
    is not the time elapsed since midnight).
    """
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return round(seconds * rate)


def fit(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, on a character boundary."""
    return text.encode()[:limit].decode(errors="ignore")


def read_broadcast_info(handle: Any) -> dict[str, Any] | None:
    """The bext of an open libsndfile handle, as `BroadcastInfo.to_json` gives it."""
    info = _ffi.new("SF_BROADCAST_INFO *")
    if not sf._snd.sf_command(handle, SFC_GET_BROADCAST_INFO, info, _ffi.sizeof(info[0])):
        return None

    def text(field: Any, size: int) -> str:
        return bytes(_ffi.buffer(field, size)).split(b"\0", 1)[0].decode()

    return {
        "description": text(info.description, 256),
        "originator": text(info.originator, 32),
        "originator_reference": text(info.originator_reference, 32),
        "origination_date": text(info.origination_date, 10),
        "origination_time": text(info.origination_time, 8),
        "time_reference": info.time_reference_high << 32 | info.time_reference_low,
    }


# ---- cue points ----


@dataclass(frozen=True)
class Cue:
    """A point in a take: a user marker, an overflow gap or a JACK xrun.

    Attributes
    ----------
    frame
        The file frame it is at.
    kind
        ``marker``, ``gap``, ``xrun``, or ``cue`` (another program's).
    label
        The marker's text, or what happened there.
    """

    frame: int
    kind: str
    label: str

    def to_json(self, rate: int) -> dict[str, Any]:
        return {
            "frame": self.frame,
            "seconds": self.frame / rate,
            "kind": self.kind,
            "label": self.label,
        }


def cues_of(sidecar: dict[str, Any]) -> list[Cue]:
    """The cue points of a take, from its sidecar's (or `Take.sidecar`'s) lists, in order."""
    cues = [Cue(m["file_frame"], "marker", m["label"]) for m in sidecar.get("markers", [])]
    cues += [
        Cue(g["file_frame"], "gap", f"gap: {g['frames']} frames lost")
        for g in sidecar.get("gaps", [])
    ]
    cues += [
        Cue(x["file_frame"], "xrun", f"xrun: {x['delay_us']:g} us late")
        for x in sidecar.get("xruns", [])
    ]
    return sorted(cues, key=lambda cue: cue.frame)  # stable: markers first at a frame


def _chunk(ident: bytes, payload: bytes) -> bytes:
    """A RIFF chunk: identifier, size, payload, padded to an even length."""
    return ident + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)


def cue_chunks(cues: Sequence[Cue]) -> bytes:
    """``cue `` and ``LIST``/``adtl`` (a ``labl`` and a ``note`` per point); empty for none.

    The points are numbered from 1 in order; a note says the kind.
    """
    cues = [cue for cue in cues if cue.frame <= CUE_LIMIT]
    if not cues:
        return b""
    points = b"".join(
        struct.pack("<II4sIII", number, cue.frame, b"data", 0, 0, cue.frame)
        for number, cue in enumerate(cues, 1)
    )
    numbered = list(enumerate(cues, 1))
    # every label before the notes: libsndfile (1.2.2) loses the labels after a note
    texts = [(b"labl", number, cue.label) for number, cue in numbered]
    texts += [(b"note", number, cue.kind) for number, cue in numbered]
    adtl = b"".join(
        _chunk(kind, struct.pack("<I", number) + text.encode() + b"\0")
        for kind, number, text in texts
    )
    return _chunk(b"cue ", struct.pack("<I", len(cues)) + points) + _chunk(b"LIST", b"adtl" + adtl)


def read_cues(path: Path) -> tuple[list[Cue], int] | None:
    """The cue points of a WAV or RF64 file and its sample rate; None for another container.

    A label missing from ``adtl`` is empty; a point without a note is of kind ``cue``.

    Raises
    ------
    JackrecError
        When the file cannot be read or its header is broken.
    """
    with mapped(path) as (data, _):
        if data[:4] not in (b"RIFF", b"RF64"):
            return None
        header = read_wave_header(data)
        fmt = header.chunks.get(b"fmt ")
        if fmt is None or fmt.size < 8:
            raise RepairError("no fmt chunk before the data")
        (rate,) = struct.unpack_from("<I", data, fmt.start + 4)
        frames: dict[int, int] = {}
        texts: dict[bytes, dict[int, str]] = {b"labl": {}, b"note": {}}  # by cue number
        after_data = RIFF_LAYOUT.aligned(header.audio.start + header.data_size)
        chunks = [*header.chunks.values(), *walk_chunks(data, RIFF_LAYOUT, after_data)]
        for chunk in chunks:
            if chunk.offset >= header.riff_end:
                break
            end = min(chunk.start + max(chunk.size, 0), header.riff_end, len(data))
            if chunk.id == b"cue " and chunk.start + 4 <= end:
                (count,) = struct.unpack_from("<I", data, chunk.start)
                for i in range(min(count, (end - chunk.start - 4) // 24)):
                    number, _, _, _, _, offset = struct.unpack_from(
                        "<II4sIII", data, chunk.start + 4 + 24 * i
                    )
                    frames[number] = offset
            elif chunk.id == b"LIST" and data[chunk.start : chunk.start + 4] == b"adtl":
                for sub in walk_chunks(data, RIFF_LAYOUT, chunk.start + 4):
                    if sub.start + sub.size > end:
                        break
                    if sub.id in texts and sub.size >= 4:
                        (number,) = struct.unpack_from("<I", data, sub.start)
                        raw = data[sub.start + 4 : sub.start + sub.size]
                        texts[sub.id][number] = raw.split(b"\0", 1)[0].decode(errors="replace")
        cues = [
            Cue(frame, texts[b"note"].get(number, "cue"), texts[b"labl"].get(number, ""))
            for number, frame in frames.items()
        ]
    return sorted(cues, key=lambda cue: cue.frame), rate


# ---- iXML ----


def ixml(
    names: Sequence[str],
    capture_channels: Sequence[int],
    rate: int,
    subtype: str,
    bext: BroadcastInfo | None,
) -> bytes:
    """The iXML document: each track's name and capture channel, rate, bit depth, time.

    `capture_channels` are 1-based, the recorder's inputs (CHANNEL_INDEX);
    the order in the file is INTERLEAVE_INDEX.
    """
    root = ET.Element("BWFXML")
    ET.SubElement(root, "IXML_VERSION").text = IXML_VERSION
    if bext is not None:
        ET.SubElement(root, "NOTE").text = bext.description
    speed = ET.SubElement(root, "SPEED")
    fields = {"FILE_SAMPLE_RATE": rate, "AUDIO_BIT_DEPTH": BIT_DEPTHS[subtype]}
    if bext is not None:
        fields |= {
            "TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI": bext.time_reference >> 32,
            "TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO": bext.time_reference & 0xFFFFFFFF,
            "TIMESTAMP_SAMPLE_RATE": rate,
        }
    for key, value in fields.items():
        ET.SubElement(speed, key).text = str(value)
    tracks = ET.SubElement(root, "TRACK_LIST")
    ET.SubElement(tracks, "TRACK_COUNT").text = str(len(names))
    for index, (name, channel) in enumerate(zip(names, capture_channels, strict=True), 1):
        track = ET.SubElement(tracks, "TRACK")
        ET.SubElement(track, "CHANNEL_INDEX").text = str(channel)
        ET.SubElement(track, "INTERLEAVE_INDEX").text = str(index)
        ET.SubElement(track, "NAME").text = name
    document = XML_DECLARATION + ET.tostring(root, encoding="unicode")
    return _chunk(b"iXML", document.encode())


# ---- appending chunks to a finalized file ----


def append_chunks(path: Path, chunks: bytes) -> None:
    """Append whole RIFF `chunks` after the container of the finalized WAV or RF64 `path`.

    The chunks go where the container ends (after a pad byte if it ends on
    an odd offset), then the container's size is made to count them: the
    RIFF size, or for RF64 the ``ds64`` one (its RIFF field says "see
    ds64").  Nothing is written when the chunks would take a RIFF file past
    4 GiB; a short write is undone.

    Raises
    ------
    JackrecError
        When the file cannot be read or written, or is no finalized WAV/RF64.
    """
    with mapped(path) as (data, _):
        header = read_wave_header(data)
        end = header.riff_end
        if end != len(data):
            raise JackrecError(f"{path}: the file does not end where its RIFF container does")
    payload = b"\0" * (RIFF_LAYOUT.aligned(end) - end) + chunks
    new_size = end + len(payload) - 8
    if header.ds64 is None and new_size > 0xFFFFFFFF:
        raise JackrecError(f"{path}: no room for the metadata chunks in a 4 GiB RIFF file")
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as error:
        raise JackrecError(f"cannot write {path}: {error.strerror}") from None
    try:
        if os.pwrite(fd, payload, end) != len(payload):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # what a short write means
        if header.ds64 is not None:
            os.pwrite(fd, struct.pack("<Q", new_size), header.ds64.start)
        else:
            os.pwrite(fd, struct.pack("<I", new_size), 4)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, end)  # the file as it was finalized
        raise JackrecError(f"cannot add the metadata chunks to {path}: {error.strerror}") from None
    finally:
        os.close(fd)
