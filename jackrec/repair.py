"""Making a sound file that was never finalized consistent with its data.

A recorder that is killed, or whose disk fills, leaves the audio on disk
but a header that does not describe it: a FLAC take has no length in its
STREAMINFO (libsndfile then reports 2^63-1 frames and cannot read it), and
a WAV from a recorder that writes its header only at the end says it holds
nothing.  Repair rewrites the header fields that give the length, from the
data actually present, and nothing else:

========== ==============================================================
container  fields written
========== ==============================================================
RIFF/WAVE  RIFF size, data size, ``fact`` sample count (if there is one)
RF64       ``ds64`` RIFF size, data size and sample count; the 32-bit RIFF
           and data sizes (0xFFFFFFFF, "see ds64"); ``fact`` (if any)
Wave64     riff size, data size, ``fact`` sample count (if any)
CAF        data size (the 4-byte edit count is left as it is)
FLAC       STREAMINFO total samples; its MD5 signature is cleared when a
           known length had to change (it is of audio no longer there)
========== ==============================================================

The data present is, for PCM, every whole frame from the start of the data
chunk to the end of the file (a recorder cut off leaves its data chunk
last); a trailing partial frame is left outside the sizes.  A data chunk
followed by complete chunks that fill the rest of the file exactly was
finalized by its writer, and its size stands (when they are the chunks
jackrec appends to a finalized take, `APPENDED_CHUNKS`, the container's
size is made to count them).  For FLAC it is the frames
found one after the other from the first: each found by its sync code, its
header checked by CRC-8 and the whole frame by CRC-16; a torn last frame
is not counted (and not written over).

`examine` only reads; `fix_header` writes the fields (at their offsets,
with ``pwrite``, never truncating); `repair` also completes the take's
sidecar.
"""

from __future__ import annotations

import contextlib
import dataclasses
import mmap
import os
import re
import stat
import struct
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from jackrec.errors import JackrecError
from jackrec.sidecar import SidecarError, read_sidecar, write_sidecar

FORMATS = "WAV, RF64, W64, CAF or FLAC"
UNKNOWN_32 = 0xFFFFFFFF  # RF64's "the size is in ds64"
CAF_UNKNOWN_SIZE = -1  # a CAF data chunk that runs to the end of the file
WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
#: Wave64 chunk GUIDs (the RIFF one, then the ones sharing Sony's suffix).
W64_SUFFIX = bytes.fromhex("f3acd3118cd100c04f8edb8a")
W64_RIFF = b"riff" + bytes.fromhex("2e91cf11a5d628db04c10000")
W64_WAVE, W64_FMT, W64_FACT, W64_DATA = (
    name + W64_SUFFIX for name in (b"wave", b"fmt ", b"fact", b"data")
)
#: The chunks jackrec appends after a WAV or RF64 take's data when it
#: finalizes it (`jackrec.bwf`): cue points, their labels, iXML.
APPENDED_CHUNKS = (b"cue ", b"LIST", b"iXML")


class RepairError(JackrecError):
    """A file that repair refuses to touch; the message says why."""


@dataclasses.dataclass(frozen=True)
class Patch:
    """New bytes for one header field."""

    offset: int
    old: bytes
    new: bytes


@dataclasses.dataclass(frozen=True)
class Examination:
    """What a sound file holds, and what its header would need to say so.

    Attributes
    ----------
    container
        WAV, RF64, W64, CAF or FLAC.
    frames
        Whole frames the file holds.
    header_frames
        Frames its header said (None: unknown, as an unfinished FLAC or CAF
        says).
    patches
        The header fields to write; none when the header is consistent.
    left_out
        Bytes at the end of the file that are no whole frame (a torn FLAC
        frame, a partial PCM frame), outside the sizes.
    identity
        Device, inode and size of the file examined, so that a file that
        changed before its header is written is not touched.
    """

    container: str
    frames: int
    header_frames: int | None
    patches: tuple[Patch, ...]
    left_out: int
    identity: tuple[int, int, int] = dataclasses.field(default=(0, 0, 0), compare=False)

    @property
    def consistent(self) -> bool:
        return not self.patches


@dataclasses.dataclass(frozen=True)
class Repair:
    """What `repair` did to one take.

    Attributes
    ----------
    examination
        What the file held; None when its sidecar says it is complete (then
        it was not even read).
    sidecar_updated
        Its sidecar now says ``complete``, ``frames`` and ``repaired``.
    """

    examination: Examination | None
    sidecar_updated: bool

    def describe(self) -> str:
        """One line: what was done (the file name goes in front)."""
        examination = self.examination
        if examination is None:
            return "complete, left as it is"
        if not self.sidecar_updated and examination.consistent:
            return f"consistent, left as it is ({examination.frames} frames)"
        if examination.consistent:
            notes = ["header was right"]
        elif examination.header_frames is None:
            notes = ["header said unknown"]
        else:
            notes = [f"header said {examination.header_frames}"]
        if examination.left_out and examination.container == "FLAC":
            notes.append(f"a torn last frame ({examination.left_out} bytes) not counted")
        elif examination.left_out:
            notes.append(f"a partial last frame ({examination.left_out} bytes) left out")
        if self.sidecar_updated:
            notes.append("sidecar updated")
        return f"repaired: {examination.frames} frames ({'; '.join(notes)})"


def repair(path: Path) -> Repair:
    """Make the take at `path` consistent, header and sidecar.

    A take whose sidecar says it is complete is left alone, as is a file
    without sidecar whose header already matches its data.  A sidecar is
    never created (other recorders' files have none).

    Raises
    ------
    RepairError
        When the file cannot be repaired; nothing was written then.
    """
    # not a file (missing, a directory): `examine` says which
    sidecar = _sidecar(path) if path.is_file() else None
    if sidecar is not None and sidecar.get("complete") is True:
        return Repair(None, sidecar_updated=False)
    examination = examine(path)
    _write_patches(path, examination)
    if sidecar is None:
        return Repair(examination, sidecar_updated=False)
    completed = {**sidecar, "complete": True, "frames": examination.frames, "repaired": True}
    try:
        write_sidecar(path, completed)
    except SidecarError as error:
        raise RepairError(
            f"header holds {examination.frames} frames, but the sidecar was not updated: {error}"
        ) from None
    return Repair(examination, sidecar_updated=True)


def fix_header(path: Path) -> int:
    """Make the header of `path` describe its data; return the frames it holds.

    Only the length fields are written, and only if they are wrong.  The
    sidecar is not touched (see `repair`).  Meant too for a take that a
    write error has cut short, once its writer has let go of it.

    Raises
    ------
    RepairError
        When the file cannot be repaired (a FLAC take without one whole
        frame among them); nothing was written then.
    """
    examination = examine(path)
    _write_patches(path, examination)
    return examination.frames


def examine(path: Path) -> Examination:
    """Read `path` and say what its header should hold; writes nothing.

    Raises
    ------
    RepairError
        Not a regular readable file, not a format repair knows, or a header
        cut short before the audio.
    """
    with mapped(path) as (data, identity):
        for magic, examine_container in EXAMINERS.items():
            if data[: len(magic)] == magic:
                return dataclasses.replace(examine_container(data), identity=identity)
        if _lossy(data):
            raise RepairError(
                "Ogg (Vorbis, Opus) and MP3 takes are not repaired: a killed one has no "
                "length field to mend, and decoders read what it holds (see the README)"
            )
    raise RepairError(f"not a {FORMATS} file")


def _lossy(data: mmap.mmap) -> bool:
    """An Ogg stream, or an MP3: an ID3 tag, or a layer III frame's sync word."""
    mpeg_layer_3 = len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE6 == 0xE2
    return data[:4] == b"OggS" or data[:3] == b"ID3" or mpeg_layer_3


# ---- reading and writing the file ----


@contextlib.contextmanager
def mapped(path: Path) -> Iterator[tuple[mmap.mmap, tuple[int, int, int]]]:
    """The file's bytes, read-only, and its identity."""
    try:
        # O_NONBLOCK: a FIFO given by mistake must not hang the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise RepairError(f"cannot read it: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise RepairError(f"{kind}, not a sound file")
        if info.st_size == 0:
            raise RepairError("an empty file, not a sound file")
        try:
            data = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
        except OSError as error:
            raise RepairError(f"cannot read it: {error.strerror}") from None
        with data:
            yield data, (info.st_dev, info.st_ino, info.st_size)
    finally:
        os.close(fd)


def _write_patches(path: Path, examination: Examination) -> None:
    """Write the examination's header fields in place, and sync them."""
    if examination.consistent:
        return
    try:
        fd = os.open(path, os.O_WRONLY)  # no O_TRUNC, no O_CREAT: the data stays as it is
    except OSError as error:
        raise RepairError(f"cannot write its header: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino, info.st_size) != examination.identity:
            raise RepairError("it changed while it was read (is it still being recorded?)")
        for patch in examination.patches:
            if os.pwrite(fd, patch.new, patch.offset) != len(patch.new):
                raise RepairError(f"writing its header at byte {patch.offset} fell short")
        os.fsync(fd)
    except OSError as error:
        raise RepairError(f"writing its header failed: {error.strerror}") from None
    finally:
        os.close(fd)


def _sidecar(path: Path) -> dict[str, Any] | None:
    """The take's sidecar, or None when it has none."""
    try:
        sidecar = read_sidecar(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not JSON"
        raise RepairError(f"cannot read its sidecar: {reason}") from None
    if not isinstance(sidecar, dict):
        raise RepairError("its sidecar is not a jackrec sidecar")
    return sidecar


def _patch(data: mmap.mmap, offset: int, new: bytes) -> list[Patch]:
    """The patch that puts `new` at `offset`; none if it is there already."""
    old = data[offset : offset + len(new)]
    return [] if old == new else [Patch(offset, old, new)]


def _field(data: mmap.mmap, offset: int, layout: str, value: int) -> list[Patch]:
    """The patch that makes the ``struct`` field at `offset` hold `value`."""
    return _patch(data, offset, struct.pack(layout, value))


# ---- chunked containers: RIFF/WAVE, RF64, Wave64, CAF ----


@dataclasses.dataclass(frozen=True)
class Layout:
    """How a container lays out its chunks.

    Attributes
    ----------
    first
        Offset of the first chunk, after the file header.
    id_size
        A chunk's identifier: a four-character code, or a GUID (Wave64).
    size_format
        ``struct`` format of the size field after the identifier.
    size_counts_header
        The size includes the chunk's own header (Wave64).
    align
        Chunks start at multiples of this.
    """

    first: int
    id_size: int
    size_format: str
    size_counts_header: bool
    align: int

    @property
    def header_size(self) -> int:
        return self.id_size + struct.calcsize(self.size_format)

    def aligned(self, offset: int) -> int:
        return -(-offset // self.align) * self.align


RIFF_LAYOUT = Layout(first=12, id_size=4, size_format="<I", size_counts_header=False, align=2)
W64_LAYOUT = Layout(first=40, id_size=16, size_format="<Q", size_counts_header=True, align=8)
CAF_LAYOUT = Layout(first=8, id_size=4, size_format=">q", size_counts_header=False, align=1)


@dataclasses.dataclass(frozen=True)
class Chunk:
    """One chunk: where its header and payload are, and its size as written.

    `size` counts payload bytes only (Wave64's header bytes taken off); a
    CAF data chunk of unknown size has -1.
    """

    id: bytes
    offset: int
    start: int
    size: int

    @property
    def size_offset(self) -> int:
        return self.offset + len(self.id)


def _chunk(data: mmap.mmap, offset: int, layout: Layout) -> Chunk | None:
    """The chunk whose header is at `offset`; None if the header is not all there."""
    start = offset + layout.header_size
    if start > len(data):
        return None
    (size,) = struct.unpack_from(layout.size_format, data, offset + layout.id_size)
    if layout.size_counts_header:
        size -= layout.header_size
    return Chunk(data[offset : offset + layout.id_size], offset, start, size)


def walk_chunks(data: mmap.mmap, layout: Layout, offset: int) -> Iterator[Chunk]:
    """The chunks one after the other from `offset`, as long as their headers are whole.

    A chunk of unknown size (a CAF data chunk) is the last one given.
    """
    while (chunk := _chunk(data, offset, layout)) is not None:
        yield chunk
        if chunk.size < 0:
            return
        offset = layout.aligned(chunk.start + chunk.size)


def _chunks_up_to(data: mmap.mmap, layout: Layout, audio_id: bytes) -> dict[bytes, Chunk]:
    """The chunks from the first up to the audio chunk (included), by identifier."""
    chunks: dict[bytes, Chunk] = {}
    for chunk in walk_chunks(data, layout, layout.first):
        if chunk.size < 0 and chunk.id != audio_id:
            break
        chunks.setdefault(chunk.id, chunk)
        if chunk.id == audio_id:
            return chunks
    raise RepairError("no data chunk: the header is cut short")


def _chunks_fill(
    data: mmap.mmap,
    offset: int,
    end: int,
    layout: Layout,
    ids: Collection[bytes] | None = None,
) -> bool:
    """Whether one or more whole chunks (of `ids`, if given) lie from `offset` exactly to `end`.

    The last may end before its alignment padding (Wave64 writers leave it out).
    """
    if offset >= end:
        return False
    for chunk in walk_chunks(data, layout, offset):
        if chunk.size < 0 or not _plausible_id(chunk.id) or (ids and chunk.id not in ids):
            return False
        chunk_end = chunk.start + chunk.size
        if end in (chunk_end, layout.aligned(chunk_end)):
            return True
        if chunk_end > end:
            return False
    return False


def _plausible_id(ident: bytes) -> bool:
    """A four-character code is printable ASCII; any GUID may be one."""
    return len(ident) == 16 or all(32 <= byte < 127 for byte in ident)


@dataclasses.dataclass(frozen=True)
class Extent:
    """Where a data chunk's audio really ends.

    Attributes
    ----------
    size
        Bytes of whole frames in the data chunk.
    end
        Where the container's size should end: after the data, and after
        its alignment padding when the file holds that.
    header_right
        The header says so already.
    """

    size: int
    end: int
    header_right: bool


def _audio_extent(
    data: mmap.mmap,
    layout: Layout,
    start: int,
    declared_size: int,
    declared_end: int | None,
    frame_bytes: int,
) -> Extent:
    """The audio of the data chunk whose payload begins at `start`.

    `declared_size` is the data size the header gives (negative: unknown),
    `declared_end` where it says the container ends (None for CAF, which
    does not say).  Complete chunks after the data, filling the container
    exactly, mean its writer finalized it: the declared size stands.  So it
    does when the chunks that jackrec appends at finalization
    (`APPENDED_CHUNKS`) fill the rest of the file exactly: jackrec was
    stopped after writing them and before counting them in the container's
    size, which then ends with them.  Otherwise the data chunk runs to the
    end of the file, as every recorder that is cut off leaves it.
    """
    file_size = len(data)
    container_end = file_size if declared_end is None else declared_end
    after_data = layout.aligned(start + declared_size)
    if declared_size >= 0:
        if container_end <= file_size and _chunks_fill(data, after_data, container_end, layout):
            return Extent(declared_size, container_end, header_right=True)
        if _chunks_fill(data, after_data, file_size, layout, APPENDED_CHUNKS):
            return Extent(declared_size, file_size, header_right=file_size == container_end)
    size = (file_size - start) // frame_bytes * frame_bytes
    data_end = start + size
    end = layout.aligned(data_end) if layout.aligned(data_end) <= file_size else data_end
    right = declared_size == size and declared_end in (None, data_end, end)
    return Extent(size, end, right)


def _wave_frame_bytes(data: mmap.mmap, fmt: Chunk | None) -> int:
    """Bytes per frame from a WAVEFORMAT(EX/EXTENSIBLE) ``fmt`` chunk."""
    if fmt is None or fmt.size < 16:
        raise RepairError("no fmt chunk before the data")
    tag, _, _, _, block_align = struct.unpack_from("<HHIIH", data, fmt.start)
    if tag == WAVE_FORMAT_EXTENSIBLE and fmt.size >= 40:
        (tag,) = struct.unpack_from("<H", data, fmt.start + 24)  # the SubFormat GUID
    if tag not in (WAVE_FORMAT_PCM, WAVE_FORMAT_IEEE_FLOAT) or block_align == 0:
        raise RepairError(f"audio coded as WAVE format 0x{tag:04x}, not PCM or float")
    return int(block_align)


@dataclasses.dataclass(frozen=True)
class WaveHeader:
    """The header of a RIFF/WAVE or RF64 file, up to its data chunk.

    Attributes
    ----------
    rf64
        An RF64 file: its sizes are in `ds64`.
    chunks
        The chunks up to the data chunk (included), by identifier.
    riff_size, data_size
        The container's and the data chunk's sizes, as the header gives them.
    """

    rf64: bool
    chunks: dict[bytes, Chunk]
    riff_size: int
    data_size: int

    @property
    def audio(self) -> Chunk:
        return self.chunks[b"data"]

    @property
    def ds64(self) -> Chunk | None:
        return self.chunks.get(b"ds64") if self.rf64 else None

    @property
    def riff_end(self) -> int:
        """Where the header says the container ends."""
        return self.riff_size + 8


def read_wave_header(data: mmap.mmap) -> WaveHeader:
    """The header of a RIFF/WAVE or RF64 file.

    Raises
    ------
    RepairError
        When it is not WAVE, has no data chunk, or is an RF64 without ds64.
    """
    rf64 = data[:4] == b"RF64"
    if data[:4] not in (b"RIFF", b"RF64") or data[8:12] != b"WAVE":
        raise RepairError("a RIFF file, but not WAVE")
    chunks = _chunks_up_to(data, RIFF_LAYOUT, b"data")
    ds64 = chunks.get(b"ds64")
    if rf64 and (ds64 is None or ds64.size < 24):
        raise RepairError("an RF64 file without its ds64 chunk")
    if rf64 and ds64 is not None:
        riff_size, data_size = struct.unpack_from("<QQ", data, ds64.start)
    else:
        (riff_size,), data_size = struct.unpack_from("<I", data, 4), chunks[b"data"].size
    return WaveHeader(rf64, chunks, riff_size, data_size)


def _examine_wave(data: mmap.mmap) -> Examination:
    """RIFF/WAVE, and RF64 (its sizes in the ``ds64`` chunk)."""
    header = read_wave_header(data)
    rf64, chunks, data_size = header.rf64, header.chunks, header.data_size
    frame_bytes = _wave_frame_bytes(data, chunks.get(b"fmt "))
    audio, fact, ds64 = header.audio, chunks.get(b"fact"), header.ds64
    extent = _audio_extent(data, RIFF_LAYOUT, audio.start, data_size, header.riff_end, frame_bytes)
    frames = extent.size // frame_bytes
    if extent.header_right:
        patches: list[Patch] = []
    elif ds64 is not None:  # the 32-bit sizes say "see ds64"
        patches = (
            _field(data, 4, "<I", UNKNOWN_32)
            + _field(data, ds64.start, "<Q", extent.end - 8)
            + _field(data, ds64.start + 8, "<Q", extent.size)
            + _field(data, ds64.start + 16, "<Q", frames)
            + _field(data, audio.size_offset, "<I", UNKNOWN_32)
        )
    elif extent.end - 8 > UNKNOWN_32:
        raise RepairError("more audio than a RIFF header can describe (4 GiB)")
    else:
        patches = _field(data, 4, "<I", extent.end - 8) + _field(
            data, audio.size_offset, "<I", extent.size
        )
    if patches and fact is not None and fact.size >= 4:
        patches += _field(data, fact.start, "<I", min(frames, UNKNOWN_32))
    return Examination(
        "RF64" if rf64 else "WAV",
        frames,
        data_size // frame_bytes,
        tuple(patches),
        len(data) - extent.end,
    )


def _examine_w64(data: mmap.mmap) -> Examination:
    """Sony Wave64: GUID chunks, 64-bit sizes that count their 24-byte header."""
    if data[24:40] != W64_WAVE:
        raise RepairError("a Wave64 file, but not WAVE")
    chunks = _chunks_up_to(data, W64_LAYOUT, W64_DATA)
    frame_bytes = _wave_frame_bytes(data, chunks.get(W64_FMT))
    audio, fact = chunks[W64_DATA], chunks.get(W64_FACT)
    (riff_end,) = struct.unpack_from("<Q", data, 16)
    extent = _audio_extent(data, W64_LAYOUT, audio.start, audio.size, riff_end, frame_bytes)
    frames = extent.size // frame_bytes
    patches: list[Patch] = []
    if not extent.header_right:
        patches += _field(data, 16, "<Q", extent.end)
        patches += _field(data, audio.size_offset, "<Q", W64_LAYOUT.header_size + extent.size)
        if fact is not None and fact.size >= 8:
            patches += _field(data, fact.start, "<Q", frames)
    return Examination(
        "W64", frames, audio.size // frame_bytes, tuple(patches), len(data) - extent.end
    )


def _examine_caf(data: mmap.mmap) -> Examination:
    """Core Audio Format: big-endian chunks; the data chunk begins with an edit count."""
    if data[4:6] != b"\x00\x01":
        raise RepairError("a CAF file of a version other than 1")
    chunks = _chunks_up_to(data, CAF_LAYOUT, b"data")
    desc, audio = chunks.get(b"desc"), chunks[b"data"]
    if desc is None or desc.size < 32:
        raise RepairError("no desc chunk before the data")
    packet_bytes, packet_frames = struct.unpack_from(">II", data, desc.start + 16)
    if packet_bytes == 0 or packet_frames == 0:
        raise RepairError("packets of varying size (only constant-size audio can be repaired)")
    edit_count = 4
    if audio.start + edit_count > len(data):
        raise RepairError("no data chunk: the header is cut short")
    declared = audio.size - edit_count if audio.size != CAF_UNKNOWN_SIZE else CAF_UNKNOWN_SIZE
    extent = _audio_extent(data, CAF_LAYOUT, audio.start + edit_count, declared, None, packet_bytes)
    patches = (
        []
        if extent.header_right
        else _field(data, audio.size_offset, ">q", edit_count + extent.size)
    )
    return Examination(
        "CAF",
        extent.size // packet_bytes * packet_frames,
        None if declared < 0 else declared // packet_bytes * packet_frames,
        tuple(patches),
        len(data) - extent.end,
    )


# ---- FLAC ----

FLAC_SYNC = re.compile(rb"\xff[\xf8\xf9]")  # 14 sync bits, a reserved 0, the blocking strategy
FLAC_FRAME_HEADER_MAX = 16  # sync, 2 code bytes, 7-byte number, 2 + 2 bytes, CRC-8
FLAC_TOTAL_SAMPLES_BITS = 36
#: Bits per sample by a frame header's 3-bit code (0: as in STREAMINFO; 3: reserved).
FLAC_SAMPLE_SIZES = {1: 8, 2: 12, 4: 16, 5: 20, 6: 24, 7: 32}
CRC8_POLYNOMIAL = 0x07  # x^8 + x^2 + x + 1, FLAC's frame header check
CRC16_POLYNOMIAL = 0x8005  # x^16 + x^15 + x^2 + 1, FLAC's whole-frame check


@dataclasses.dataclass(frozen=True)
class StreamInfo:
    """The STREAMINFO block of a FLAC file.

    Attributes
    ----------
    offset
        Where its 34 bytes begin.
    max_block
        The longest block (samples per channel in a frame).
    channels, bits
        Channels and bits per sample.
    packed
        The 64 bits holding sample rate, channels, bits and total samples.
    md5
        The MD5 signature of the audio (zeros: not computed).
    """

    offset: int
    max_block: int
    channels: int
    bits: int
    packed: int
    md5: bytes

    @property
    def total_samples(self) -> int:
        return self.packed & ((1 << FLAC_TOTAL_SAMPLES_BITS) - 1)


def _flac_metadata(data: mmap.mmap) -> tuple[StreamInfo, int]:
    """STREAMINFO, and where the first frame begins (after the last metadata block)."""
    offset, info = 4, None
    while True:
        if offset + 4 > len(data):
            raise RepairError("the FLAC metadata is cut short")
        kind, last = data[offset] & 0x7F, data[offset] & 0x80
        length = int.from_bytes(data[offset + 1 : offset + 4], "big")
        if info is None:
            if kind != 0 or length < 34 or offset + 4 + 34 > len(data):
                raise RepairError("a FLAC file without STREAMINFO")
            start = offset + 4
            max_block, packed = struct.unpack_from(">2xH6xQ", data, start)
            channels, bits = (packed >> 41 & 0x7) + 1, (packed >> 36 & 0x1F) + 1
            info = StreamInfo(
                start, max_block, channels, bits, packed, data[start + 18 : start + 34]
            )
        offset += 4 + length
        if offset > len(data):
            raise RepairError("the FLAC metadata is cut short")
        if last:
            return info, offset


def _examine_flac(data: mmap.mmap) -> Examination:
    """FLAC: total samples from the frames that are whole and intact."""
    info, first_frame = _flac_metadata(data)
    samples, end = FlacFrames(data, info).count(first_frame)
    if samples == 0:
        # STREAMINFO's 0 means "unknown": no header field can say "no audio".
        raise RepairError("no whole FLAC frame: the take holds no audio")
    if samples >> FLAC_TOTAL_SAMPLES_BITS:
        raise RepairError("more samples than a FLAC header can count")
    patches: list[Patch] = []
    if samples != info.total_samples:
        packed = info.packed >> FLAC_TOTAL_SAMPLES_BITS << FLAC_TOTAL_SAMPLES_BITS | samples
        # Only the 36 low bits change: bytes 13 (its low half) to 17 of STREAMINFO.
        patches += _patch(data, info.offset + 13, packed.to_bytes(8, "big")[3:])
        if info.total_samples and any(info.md5):
            patches += _patch(data, info.offset + 18, bytes(16))
    return Examination("FLAC", samples, info.total_samples or None, tuple(patches), len(data) - end)


@dataclasses.dataclass(frozen=True)
class FrameHeader:
    """A FLAC frame header that passed its CRC-8.

    `number` is the frame's number (fixed block size) or its first sample's
    (variable block size).
    """

    length: int
    block_size: int
    number: int
    variable: bool

    @property
    def next_number(self) -> int:
        return self.number + (self.block_size if self.variable else 1)


class FlacFrames:
    """The frames of a FLAC stream, found by their sync code and checked by CRC."""

    def __init__(self, data: mmap.mmap, info: StreamInfo) -> None:
        self.data = data
        self.info = info
        # Encoders store a frame verbatim when coding it would make it longer;
        # twice that, plus headers, bounds any frame (and so every search).
        verbatim = info.channels * (info.max_block * (info.bits + 1) + 7) // 8
        self.max_frame = 2 * verbatim + 64
        self.crc16 = Crc16()

    def count(self, start: int) -> tuple[int, int]:
        """Samples per channel in the valid frames from `start` on, and where they end."""
        samples, offset = 0, start
        header = self.header(offset)
        while header is not None:
            found = self.frame_end(offset, header)
            if found is None:
                break
            samples += header.block_size
            offset, header = found
        return samples, offset

    def frame_end(self, start: int, header: FrameHeader) -> tuple[int, FrameHeader | None] | None:
        """Where the frame at `start` ends and the next one's header; None if torn."""
        data = self.data
        limit = min(len(data), start + self.max_frame + 2)
        for match in FLAC_SYNC.finditer(data, start + header.length, limit):
            following = self.header(match.start())
            if (
                following is not None
                and following.variable == header.variable
                and following.number == header.next_number
                and self.crc16(data[start : match.start()]) == 0
            ):
                return match.start(), following
        # The last frame ends at the end of the file, or where a frame header
        # begins that the file cuts short.
        tail_start = max(start + header.length, len(data) - FLAC_FRAME_HEADER_MAX)
        ends = [len(data), *(m.start() for m in FLAC_SYNC.finditer(data, tail_start))]
        for end in ends:
            if end - start <= self.max_frame and self.crc16(data[start:end]) == 0:
                return end, None
        return None

    def header(self, offset: int) -> FrameHeader | None:
        """The frame header at `offset` if it is one of this stream's, CRC-8 intact."""
        raw = self.data[offset : offset + FLAC_FRAME_HEADER_MAX]
        if len(raw) < 6 or not FLAC_SYNC.match(raw):
            return None
        block_code, rate_code = raw[2] >> 4, raw[2] & 0xF
        assignment, size_code, reserved = raw[3] >> 4, raw[3] >> 1 & 0x7, raw[3] & 1
        channels = assignment + 1 if assignment < 8 else 2 if assignment <= 10 else 0
        bits = FLAC_SAMPLE_SIZES.get(size_code, 0) if size_code else self.info.bits
        if block_code == 0 or rate_code == 15 or reserved or channels != self.info.channels:
            return None
        if bits != self.info.bits:
            return None
        coded = _coded_number(raw, 4)
        if coded is None:
            return None
        number, position = coded
        block_size, position = _block_size(block_code, raw, position)
        position += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)  # a rate given after the size
        if position >= len(raw) or block_size > max(self.info.max_block, 16):
            return None
        if _crc8(raw[:position]) != raw[position]:
            return None
        return FrameHeader(position + 1, block_size, number, variable=bool(raw[1] & 1))


class Crc16:
    """FLAC's CRC-16 (polynomial 0x8005, no initial value, no final XOR), with NumPy.

    CRC is linear over GF(2): the CRC of a message is the XOR, over its set
    bits, of x^(k+16) mod P, k being the bit's distance from the message's
    end.  A frame followed by its own CRC has CRC 0.
    """

    def __init__(self) -> None:
        self._powers = _crc16_powers(8 * FLAC_FRAME_HEADER_MAX)

    def __call__(self, message: bytes) -> int:
        bits = np.unpackbits(np.frombuffer(message, np.uint8)).astype(np.uint16)
        if len(self._powers) < len(bits):
            self._powers = _crc16_powers(len(bits))
        np.negative(bits, out=bits)  # a set bit becomes the mask 0xFFFF
        bits &= self._powers[: len(bits)][::-1]  # each bit's share, by distance from the end
        return int(np.bitwise_xor.reduce(bits))


def _coded_number(raw: bytes, offset: int) -> tuple[int, int] | None:
    """A FLAC frame or sample number ("UTF-8" coded, 1 to 7 bytes) and where it ends."""
    first = raw[offset]
    leading_ones = next((n for n in range(8) if not first & (0x80 >> n)), 8)
    if leading_ones == 0:
        return first, offset + 1
    end = offset + leading_ones
    if leading_ones in (1, 8) or end > len(raw):  # 10xxxxxx and 0xFF begin no number
        return None
    value = first & (0x7F >> leading_ones)
    for byte in raw[offset + 1 : end]:
        if byte & 0xC0 != 0x80:
            return None
        value = value << 6 | byte & 0x3F
    return value, end


def _block_size(code: int, raw: bytes, position: int) -> tuple[int, int]:
    """A frame's block size by its 4-bit code, and where the header goes on.

    Codes 6 and 7 store it (less one) in 1 or 2 bytes after the number.
    """
    if code in (6, 7):
        end = position + code - 5
        return int.from_bytes(raw[position:end], "big") + 1, end
    if code == 1:
        return 192, position
    if code <= 5:
        return 576 << (code - 2), position
    return 256 << (code - 8), position


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc << 1 ^ CRC8_POLYNOMIAL if crc & 0x80 else crc << 1) & 0xFF
    return crc


def _crc16_powers(length: int) -> npt.NDArray[np.uint16]:
    """x^(k+16) mod P for k below `length` (at least): each bit's share of a CRC-16.

    The first 16 come one by one; then each doubling multiplies the table
    by x^n mod P (which is entry n - 16).
    """
    powers = [CRC16_POLYNOMIAL]
    while len(powers) < 16:
        last = powers[-1]
        powers.append((last << 1 ^ CRC16_POLYNOMIAL if last & 0x8000 else last << 1) & 0xFFFF)
    table = np.array(powers, np.uint16)
    while len(table) < length:
        table = np.concatenate([table, _gf2_times(table, int(table[len(table) - 16]))])
    return table


def _gf2_times(values: npt.NDArray[np.uint16], factor: int) -> npt.NDArray[np.uint16]:
    """Each of `values` times `factor`, as polynomials over GF(2) mod the CRC-16 one."""
    product = np.zeros_like(values)
    for bit in range(16):  # factor * x^bit, for each bit set in the values
        product ^= np.where(values >> bit & 1, np.uint16(factor), np.uint16(0))
        factor = (factor << 1 ^ CRC16_POLYNOMIAL if factor & 0x8000 else factor << 1) & 0xFFFF
    return product


EXAMINERS = {
    b"RIFF": _examine_wave,
    b"RF64": _examine_wave,
    W64_RIFF: _examine_w64,
    b"caff": _examine_caf,
    b"fLaC": _examine_flac,
}
