"""A recording's sound file: format choice, crash-safe headers, samples.

Format rules (what ``--format`` and ``--bits`` resolve to):

- the format comes from ``--format`` or else from the file extension;
- ``wav`` becomes RF64 whenever the take could pass the 4 GiB a RIFF header
  can describe: when the duration is unknown it is written as RF64 with
  libsndfile's auto-downgrade, so a take that stays small is closed as a
  RIFF/WAVE file (WAVE_FORMAT_EXTENSIBLE);
- samples are float32 unless ``--bits`` says 16, 24 or 32; FLAC, which has
  no float, defaults to 24-bit;
- ``ogg`` (Vorbis), ``opus`` (Opus in Ogg) and ``mp3`` (MPEG layer III,
  constant bit rate) are lossy codecs: they take float frames and have no
  bit depth; ``--quality`` (0 to 1) chooses their bit rate.  Their channel
  counts and sample rates are limited (`MAX_CHANNELS`, `SAMPLE_RATES`).

Integer samples are converted by jackrec (``cext/filewrite.c``), not by
libsndfile: full scale is 2**(bits-1) both ways, values are rounded to
nearest and clipped, so every float that lies on the integer grid survives
the round trip exactly (libsndfile would scale by 32767 on write and
1/32768 on read, and wrap instead of clip).  With ``--dither``, 16-bit
samples get TPDF dither first (`TakeFile.dither_noise`).

No PEAK chunk is written for WAV, W64 or CAF (the sidecar has the peaks);
libsndfile refuses to leave it out of float RF64 files (an open-ended
``.wav`` starts as RF64), so those carry it, with the true peaks.

Crash safety: every frame handed to a file is in it (the page cache) when
the write returns; its header is brought up to date by `TakeFile.sync_header`,
which a take calls at most `jackrec.take.HEADER_SECONDS` apart and before
each sidecar update (so the header never says less than the sidecar).  A
recorder killed at any moment leaves a WAV, RF64, W64 or CAF file that
reads back with every frame up to its last header update, and
`jackrec repair` gives it the frames written after that (up to about a
second): nothing handed over is lost.  (libsndfile can rewrite the header
after every write instead, ``SFC_SET_UPDATE_HEADER_AUTO``: 7 % of the
recorder's CPU at 512 channels, measured.)  FLAC has no such header: a
killed FLAC take has no length in its STREAMINFO and loses the encoder's
last unfinished block (`jackrec.repair` gives it the length of the frames
it holds).  The lossy codecs get no
header updates (libsndfile would write Vorbis's headers again with every
block, leaving a file no decoder reads); what a killed one keeps is measured
in the README: Opus pages are closed every `OPUS_PAGE_MS`, MP3 is written
at a constant bit rate so that a reader can tell its length from its size.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from jackrec.bwf import BroadcastInfo
from jackrec.core.filewrite import LITTLE_ENDIAN, WRITE_BYTES, FileSink, FilesWriter
from jackrec.durability import sync_file
from jackrec.errors import JackrecError, UsageError

# libsndfile commands (values from sndfile.h)
SFC_SET_ADD_PEAK_CHUNK = 0x1050
SFC_UPDATE_HEADER_NOW = 0x1060
SFC_RF64_AUTO_DOWNGRADE = 0x1210
SFC_SET_COMPRESSION_LEVEL = 0x1301
SFC_SET_OGG_PAGE_LATENCY_MS = 0x1302
SFC_GET_BITRATE_MODE = 0x1304
SFC_SET_BITRATE_MODE = 0x1305
SF_BITRATE_MODE_CONSTANT = 0

#: ``--format`` names and the libsndfile major format each is written as.
FORMATS = {
    "wav": "WAV", "rf64": "RF64", "w64": "W64", "flac": "FLAC", "caf": "CAF",
    "ogg": "OGG", "opus": "OGG", "mp3": "MP3",
}  # fmt: skip
#: File extensions and the format each names.
EXTENSIONS = {name: name for name in FORMATS}
SUBTYPES = {"16": "PCM_16", "24": "PCM_24", "32": "PCM_32", "float": "FLOAT"}
#: The lossy formats and their codec (libsndfile subtype): no bit depth.
CODECS = {"ogg": "VORBIS", "opus": "OPUS", "mp3": "MPEG_LAYER_III"}
#: Channel limits: FLAC's format; libsndfile's Vorbis crashes at 256
#: channels and its Opus refuses them; LAME encodes mono or stereo.
MAX_CHANNELS = {"FLAC": 8, "OGG": 255, "MP3": 2}
MAX_CHANNELS_DEFAULT = 1024  # libsndfile's limit for WAV, RF64, W64 and CAF
#: The only sample rates these codecs encode (Vorbis takes any).  MP3 is
#: limited to MPEG-1's rates: at MPEG-2's (8 to 24 kHz) LAME leaves out the
#: tag that gives the exact length at the default and low bit rates.
SAMPLE_RATES = {
    "OPUS": (8000, 12000, 16000, 24000, 48000),
    "MPEG_LAYER_III": (32000, 44100, 48000),
}
#: The lowest ``--quality`` per codec: below it (under 80 kbit/s) LAME has no
#: room for the tag that gives an MP3 its exact length (measured).
MIN_QUALITY = {"MPEG_LAYER_III": 0.15}
#: Ogg pages of an Opus take are closed this often (libsndfile's default is
#: a second), so a killed take loses at most about this much.
OPUS_PAGE_MS = 100.0
RIFF_LIMIT_BYTES = 2**32 - 1024  # what a RIFF size field holds, less header room
#: Bytes per sample: exact for PCM; for the codecs, the most they write at
#: quality 1 at 48 kHz (a disk-space estimate): Vorbis about 280 kbit/s per
#: channel of noise, Opus 256, MP3 320 (for a mono take).
BYTES_PER_SAMPLE = {
    "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4,
    "VORBIS": 0.75, "OPUS": 0.67, "MPEG_LAYER_III": 0.83,
}  # fmt: skip


#: Integer samples' bits (the others are float: FLOAT and the codecs).
INTEGER_BITS = {"PCM_16": 16, "PCM_24": 24, "PCM_32": 32}
#: Containers whose PCM samples are written packed, as they lie in the file
#: (`jackrec.core.filewrite`): little-endian, with no encoder in between.
RAW_CONTAINERS = ("WAV", "RF64", "W64")
#: Containers whose header says how many frames follow (`TakeFile.sync_header`).
SIZED_CONTAINERS = ("WAV", "RF64", "W64", "CAF")


@dataclass(frozen=True)
class FileFormat:
    """What a take is written as.

    Attributes
    ----------
    container
        libsndfile major format: WAV, RF64, W64, FLAC, CAF, OGG or MP3.
    subtype
        PCM_16, PCM_24, PCM_32 or FLOAT; for the lossy formats their codec
        (VORBIS, OPUS, MPEG_LAYER_III).
    rf64_downgrade
        Write RF64 but close as RIFF/WAVE if the take stayed under 4 GiB.
    quality
        A lossy codec's quality, 0 (smallest) to 1 (best); None: libsndfile's
        default.  Always None for the other formats.
    dither
        TPDF dither on the way to 16 bits; always False for other samples.
    """

    container: str
    subtype: str
    rf64_downgrade: bool = False
    quality: float | None = None
    dither: bool = False

    @property
    def lossy(self) -> bool:
        return self.subtype in CODECS.values()

    @property
    def description(self) -> str:
        kind = "WAV (RF64 above 4 GiB)" if self.rf64_downgrade else self.container
        extra = " dithered" if self.dither else ""
        if self.quality is not None:
            extra += f" quality {self.quality:g}"
        return f"{kind} {self.subtype}{extra}"


def format_name_of(path: Path, format_name: str | None) -> str:
    """The ``--format`` name of a take: `format_name`, else the file's extension.

    Raises
    ------
    UsageError
        When neither names a known format.
    """
    if format_name is None:
        extension = path.suffix.lower().lstrip(".")
        if extension not in EXTENSIONS:
            raise UsageError(
                f"cannot tell the format from '{path.name}'; use --format ({', '.join(FORMATS)})"
            )
        format_name = EXTENSIONS[extension]
    if format_name not in FORMATS:
        raise UsageError(f"unknown format '{format_name}' (choose from {', '.join(FORMATS)})")
    return format_name


def sample_subtype(format_name: str, bits: str | None) -> str:
    """The libsndfile subtype of `format_name` at `bits` (None: float, or 24-bit for FLAC).

    A lossy format's subtype is its codec, whatever `bits` says.
    """
    if format_name in CODECS:
        return CODECS[format_name]
    if bits is None:
        bits = "24" if format_name == "flac" else "float"
    if bits not in SUBTYPES:
        raise UsageError(f"unknown bit depth '{bits}' (choose from 16, 24, 32, float)")
    return SUBTYPES[bits]


def resolve_format(
    path: Path,
    format_name: str | None,
    bits: str | None,
    channels: int,
    sample_rate: int,
    duration: float | None,
    *,
    quality: float | None = None,
    dither: bool = False,
) -> FileFormat:
    """Choose container and sample format; raise `UsageError` if impossible.

    `bits` does not apply to the lossy formats, nor `quality` to the others,
    and `dither` only to 16-bit samples: each is left out where it does not
    apply (the settings file's are preferences for whatever format a take
    has; `jackrec.cli` refuses those given on the command line in vain).
    """
    format_name = format_name_of(path, format_name)
    container = FORMATS[format_name]
    subtype = sample_subtype(format_name, bits)
    if not sf.check_format(container, subtype):
        depth = "float" if bits == "float" else f"{bits}-bit"
        raise UsageError(f"{format_name} cannot hold {depth} samples (use 16 or 24 bits)")
    limit = MAX_CHANNELS.get(container, MAX_CHANNELS_DEFAULT)
    if channels > limit:
        raise UsageError(f"{format_name} holds at most {limit} channels, not {channels}")
    rates = SAMPLE_RATES.get(subtype)
    if rates is not None and sample_rate not in rates:
        raise UsageError(
            f"{format_name} records only at {', '.join(map(str, rates))} Hz, "
            f"not at the JACK server's {sample_rate} Hz"
        )
    if format_name not in CODECS:
        quality = None
    elif quality is not None and not MIN_QUALITY.get(subtype, 0.0) <= quality <= 1:
        lowest = MIN_QUALITY.get(subtype, 0.0)
        raise UsageError(f"{format_name} quality must be {lowest:g} to 1, not {quality:g}")

    downgrade = False
    if container == "WAV":
        frame_bytes = channels * BYTES_PER_SAMPLE[subtype]
        if duration is None or duration * sample_rate * frame_bytes > RIFF_LIMIT_BYTES:
            container, downgrade = "RF64", duration is None
    return FileFormat(container, subtype, downgrade, quality, dither and subtype == "PCM_16")


class TakeFile:
    """An open sound file that takes float32 frames.

    Use `TakeFile.create`; the file is created exclusively, so an existing
    recording is never overwritten.
    """

    def __init__(
        self,
        path: Path,
        fd: int,
        handle: sf.SoundFile,
        file_format: FileFormat,
        dither_seed: int | None = None,
        scratch_bytes: int = WRITE_BYTES,
    ) -> None:
        self.path = path
        self._fd = fd
        self.format = file_format
        self.container = file_format.container
        self.channels: int = handle.channels
        self.frames = 0
        self._handle = handle
        self._closed = False
        #: What the C writer writes to (`jackrec.core.filewrite`).
        self.sink = FileSink(handle, *_encoding(file_format), scratch_bytes)
        self._own: FilesWriter | None = None  # for `write`
        #: The seed of the take's dither generator (None: no dither).
        self.dither_seed = dither_seed
        self._dither = None if dither_seed is None else np.random.default_rng(dither_seed)

    @classmethod
    def create(
        cls,
        path: Path,
        file_format: FileFormat,
        channels: int,
        sample_rate: int,
        dither_seed: int | None = None,
        scratch_bytes: int = WRITE_BYTES,
    ) -> TakeFile:
        """Create `path` (which must not exist) and open it for writing.

        A dithered take's generator starts from `dither_seed` (None: a
        random seed, which `dither_seed` then tells).  `scratch_bytes` is
        the most one write hands the kernel.

        Raises
        ------
        JackrecError
            When the file exists or cannot be created.
        """
        try:
            # read-write: close() reads back what the header became
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise JackrecError(f"{path} exists; jackrec never overwrites a take") from None
        except OSError as error:
            raise JackrecError(f"cannot create {path}: {error.strerror}") from None
        try:
            handle = sf.SoundFile(
                fd,
                "w",
                samplerate=sample_rate,
                channels=channels,
                subtype=file_format.subtype,
                format=file_format.container,
                closefd=False,  # the descriptor is ours: closed in close()
            )
        except (sf.LibsndfileError, RuntimeError, ValueError) as error:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise JackrecError(f"cannot write {path}: {error}") from None
        try:
            if file_format.lossy:
                _set_encoder(handle, file_format)
            else:
                _set_pcm(handle, file_format)
        except JackrecError as error:
            handle.close()
            os.close(fd)
            path.unlink(missing_ok=True)
            raise JackrecError(f"cannot write {path}: {error}") from None
        if file_format.dither and dither_seed is None:
            dither_seed = secrets.randbits(64)
        seed = dither_seed if file_format.dither else None
        return cls(path, fd, handle, file_format, seed, scratch_bytes)

    def set_broadcast_info(self, info: BroadcastInfo) -> None:
        """Give a WAV or RF64 file its bext chunk; only before the first write.

        Raises
        ------
        JackrecError
            When libsndfile refuses it.
        """
        info.set_on(self._handle._file)

    def write(self, frames: npt.NDArray[np.float32], *, silence: bool = False) -> None:
        """Append float32 frames (shape ``(n, channels)``, C-contiguous).

        `silence` says the frames are a gap's silence: they stay exact zeros,
        undithered, and draw nothing from the dither generator.  A take
        writes its files together (`jackrec.core.filewrite.FilesWriter`);
        this is one file on its own.

        Raises
        ------
        JackrecError
            With the system's reason (``No space left on device``) when the
            write fails.
        """
        if self._own is None:
            self._own = FilesWriter([self.sink], [np.arange(self.channels, dtype=np.uint32)])
        noise = None if silence else self.dither_noise(len(frames))
        if self._own.write(frames, [noise]) is not None:
            raise self.failed()
        self.frames += len(frames)

    def dither_noise(self, frames: int) -> npt.NDArray[np.float64] | None:
        """The dither of the next `frames` frames, in LSB (None: not dithered).

        Each sample's is ``u1 - u2``, two uniform draws from [0, 1) taken
        from the take's generator in sample order (frame by frame, channel
        by channel): triangular over (-1, +1) LSB, mean 0, variance 1/6 LSB².
        Since the draws go in sample order, the noise of a take does not
        depend on how its frames were split into writes, and the take's seed
        reproduces it.  Rounding after it leaves an error whose mean and
        variance (1/4 LSB²) do not depend on the signal.
        """
        if self._dither is None:
            return None
        draws = self._dither.random((frames, self.channels, 2))
        return np.ascontiguousarray(draws[..., 0] - draws[..., 1])

    def failed(self) -> JackrecError:
        """After a failed write: count the frames really in the file, and say why.

        A failed write (disk full) may still have put part of the block in
        the file; `frames` becomes what is there, as the header says.
        """
        reason = self._reason()  # before tell(), which clears it
        self.recount()
        return JackrecError(reason)

    def recount(self) -> None:
        """Take `frames` from libsndfile (after a write of several files failed)."""
        with contextlib.suppress(Exception):
            self.frames = self._handle.tell()

    def _reason(self) -> str:
        """libsndfile's message, with the system's reason when there is one.

        For a failed system call libsndfile's error code only says "System
        error."; the handle's own message carries the errno text.
        """
        text = sf._ffi.string(sf._snd.sf_strerror(self._handle._file)).decode(errors="replace")
        text = text.strip().removeprefix("System error :").strip().rstrip(".")
        return text or f"writing {self.path} failed"

    def sync_header(self) -> None:
        """Make the header say how many frames the file holds now (see the
        module's crash safety); nothing for FLAC and the lossy codecs."""
        if not self._closed and self.container in SIZED_CONTAINERS and not self.format.lossy:
            sf._snd.sf_command(self._handle._file, SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)

    def sync_data(self) -> None:
        """``fdatasync``: what was written, header included, is on the disk
        (`jackrec.durability`); once closed, by name (what was appended since
        included).  Raises OSError on a writeback error."""
        if self._closed:
            sync_file(self.path)
        else:
            os.fdatasync(self._fd)

    @property
    def size(self) -> int:
        """The file's size in bytes now."""
        return os.fstat(self._fd).st_size

    @property
    def deleted(self) -> bool:
        """Whether the file has no name left (it, or its directory, was removed)."""
        return os.fstat(self._fd).st_nlink == 0

    def close(self) -> None:
        """Finalize the header and close; safe to call twice.

        Afterwards `container` says what the file became: an RF64 written
        with auto-downgrade that stayed small is closed as a RIFF/WAVE file.
        """
        if not self._closed:
            self._closed = True
            try:
                self._handle.close()
                if self.format.rf64_downgrade and os.pread(self._fd, 4, 0) == b"RIFF":
                    self.container = "WAV"
            finally:
                os.close(self._fd)


def _encoding(file_format: FileFormat) -> tuple[int, bool]:
    """How the C writer writes `file_format`: integer bits (0: float), and raw.

    Samples go raw (packed by jackrec, `sf_write_raw`) wherever they lie in
    the file as they are, except float RF64, whose PEAK chunk libsndfile
    fills only from the samples it converts itself (`sf_writef_float`).
    """
    raw = (
        LITTLE_ENDIAN
        and file_format.container in RAW_CONTAINERS
        and not file_format.lossy
        and not (file_format.container == "RF64" and file_format.subtype == "FLOAT")
    )
    return INTEGER_BITS.get(file_format.subtype, 0), raw


def _set_pcm(handle: sf.SoundFile, file_format: FileFormat) -> None:
    """RF64's downgrade, and no PEAK chunk."""
    command = sf._snd.sf_command
    if file_format.rf64_downgrade:
        command(handle._file, SFC_RF64_AUTO_DOWNGRADE, sf._ffi.NULL, 1)
    # libsndfile would scan every float sample for a PEAK chunk (6 % of
    # the recorder's CPU at 256 channels); the peaks are in the sidecar.
    # RF64 refuses (the command returns false): see the module docstring.
    command(handle._file, SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)


def _set_encoder(handle: sf.SoundFile, file_format: FileFormat) -> None:
    """A lossy codec's settings, before the first write.

    MP3 at a constant bit rate (libsndfile's default is variable, and a
    killed variable-rate MP3 reads back with a length guessed from its
    first frame: a quarter of it, measured); Opus pages every
    `OPUS_PAGE_MS`; the quality as libsndfile's compression level
    (1 - quality).

    Raises
    ------
    JackrecError
        When libsndfile does not take a setting.
    """
    command, handle_ptr, ffi = sf._snd.sf_command, handle._file, sf._ffi
    if file_format.subtype == "MPEG_LAYER_III":
        mode = ffi.new("int *", SF_BITRATE_MODE_CONSTANT)
        command(handle_ptr, SFC_SET_BITRATE_MODE, mode, ffi.sizeof("int"))
        if command(handle_ptr, SFC_GET_BITRATE_MODE, ffi.NULL, 0) != SF_BITRATE_MODE_CONSTANT:
            raise JackrecError("libsndfile did not take a constant bit rate for MP3")
    if file_format.subtype == "OPUS":
        latency = ffi.new("double *", OPUS_PAGE_MS)
        command(handle_ptr, SFC_SET_OGG_PAGE_LATENCY_MS, latency, ffi.sizeof("double"))
    if file_format.quality is not None:
        level = ffi.new("double *", 1.0 - file_format.quality)
        if not command(handle_ptr, SFC_SET_COMPRESSION_LEVEL, level, ffi.sizeof("double")):
            raise JackrecError(f"libsndfile refused quality {file_format.quality:g}")
