"""A recording's sound file: format choice, crash-safe headers, samples.

Format rules (what ``--format`` and ``--bits`` resolve to):

- the format comes from ``--format`` or else from the file extension;
- ``wav`` becomes RF64 whenever the take could pass the 4 GiB a RIFF header
  can describe: when the duration is unknown it is written as RF64 with
  libsndfile's auto-downgrade, so a take that stays small is closed as a
  RIFF/WAVE file (WAVE_FORMAT_EXTENSIBLE);
- samples are float32 unless ``--bits`` says 16, 24 or 32; FLAC, which has
  no float, defaults to 24-bit.

Integer samples are converted here, not by libsndfile: full scale is
2**(bits-1) both ways, values are rounded to nearest and clipped, so every
float that lies on the integer grid survives the round trip exactly
(libsndfile would scale by 32767 on write and 1/32768 on read, and wrap
instead of clip).

No PEAK chunk is written for WAV, W64 or CAF (the sidecar has the peaks);
libsndfile refuses to leave it out of float RF64 files (an open-ended
``.wav`` starts as RF64), so those carry it, with the true peaks.

Crash safety: libsndfile rewrites the header after every write
(``SFC_SET_UPDATE_HEADER_AUTO``), so a recorder killed at any moment leaves
a WAV, RF64, W64 or CAF file that reads back with every frame written.
FLAC has no such header: a killed FLAC take has no length in its
STREAMINFO and loses the encoder's last unfinished block (`jackrec.repair`
gives it the length of the frames it holds).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf

from jackrec.bwf import BroadcastInfo
from jackrec.errors import JackrecError, UsageError

# libsndfile commands (values from sndfile.h)
SFC_SET_ADD_PEAK_CHUNK = 0x1050
SFC_SET_UPDATE_HEADER_AUTO = 0x1061
SFC_RF64_AUTO_DOWNGRADE = 0x1210

FORMATS = {"wav": "WAV", "rf64": "RF64", "w64": "W64", "flac": "FLAC", "caf": "CAF"}
EXTENSIONS = {"wav": "wav", "rf64": "rf64", "w64": "w64", "flac": "flac", "caf": "caf"}
SUBTYPES = {"16": "PCM_16", "24": "PCM_24", "32": "PCM_32", "float": "FLOAT"}
MAX_CHANNELS = {"FLAC": 8}
MAX_CHANNELS_DEFAULT = 1024  # libsndfile's limit for WAV, RF64, W64 and CAF
RIFF_LIMIT_BYTES = 2**32 - 1024  # what a RIFF size field holds, less header room
BYTES_PER_SAMPLE = {"PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4}


@dataclass(frozen=True)
class IntegerSamples:
    """How float32 frames become the integers handed to libsndfile.

    Attributes
    ----------
    full_scale
        2**(bits-1): 1.0 maps to it (and is clipped one below).
    dtype
        The NumPy type soundfile writes (int16 or int32).
    shift
        Left shift after scaling: libsndfile takes the top 24 bits of an
        int32 for PCM_24.
    """

    full_scale: float
    dtype: type[np.signedinteger[Any]]
    shift: int = 0

    def convert(self, frames: npt.NDArray[np.float32]) -> npt.NDArray[np.signedinteger[Any]]:
        scaled = np.rint(frames * np.float64(self.full_scale))
        np.clip(scaled, -self.full_scale, self.full_scale - 1, out=scaled)
        samples = scaled.astype(self.dtype)
        if self.shift:
            samples <<= self.shift
        return samples


INTEGER_SAMPLES = {
    "PCM_16": IntegerSamples(2.0**15, np.int16),
    "PCM_24": IntegerSamples(2.0**23, np.int32, shift=8),
    "PCM_32": IntegerSamples(2.0**31, np.int32),
}


@dataclass(frozen=True)
class FileFormat:
    """What a take is written as.

    Attributes
    ----------
    container
        libsndfile major format: WAV, RF64, W64, FLAC or CAF.
    subtype
        PCM_16, PCM_24, PCM_32 or FLOAT.
    rf64_downgrade
        Write RF64 but close as RIFF/WAVE if the take stayed under 4 GiB.
    """

    container: str
    subtype: str
    rf64_downgrade: bool = False

    @property
    def description(self) -> str:
        kind = "WAV (RF64 above 4 GiB)" if self.rf64_downgrade else self.container
        return f"{kind} {self.subtype}"


def sample_subtype(container: str, bits: str | None) -> str:
    """The libsndfile subtype for `bits` (None: float, or 24-bit for FLAC)."""
    if bits is None:
        bits = "24" if container == "FLAC" else "float"
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
) -> FileFormat:
    """Choose container and sample format; raise `UsageError` if impossible."""
    if format_name is None:
        extension = path.suffix.lower().lstrip(".")
        if extension not in EXTENSIONS:
            raise UsageError(
                f"cannot tell the format from '{path.name}'; use --format ({', '.join(FORMATS)})"
            )
        format_name = EXTENSIONS[extension]
    if format_name not in FORMATS:
        raise UsageError(f"unknown format '{format_name}' (choose from {', '.join(FORMATS)})")
    container = FORMATS[format_name]
    subtype = sample_subtype(container, bits)
    if not sf.check_format(container, subtype):
        depth = "float" if bits == "float" else f"{bits}-bit"
        raise UsageError(f"{format_name} cannot hold {depth} samples (use 16 or 24 bits)")
    limit = MAX_CHANNELS.get(container, MAX_CHANNELS_DEFAULT)
    if channels > limit:
        raise UsageError(f"{format_name} holds at most {limit} channels, not {channels}")

    downgrade = False
    if container == "WAV":
        frame_bytes = channels * BYTES_PER_SAMPLE[subtype]
        if duration is None or duration * sample_rate * frame_bytes > RIFF_LIMIT_BYTES:
            container, downgrade = "RF64", duration is None
    return FileFormat(container, subtype, downgrade)


class TakeFile:
    """An open sound file that takes float32 frames.

    Use `TakeFile.create`; the file is created exclusively, so an existing
    recording is never overwritten.
    """

    def __init__(self, path: Path, fd: int, handle: sf.SoundFile, file_format: FileFormat) -> None:
        self.path = path
        self._fd = fd
        self.format = file_format
        self.container = file_format.container
        self.channels = handle.channels
        self.frames = 0
        self._handle = handle
        self._closed = False
        self._integer = INTEGER_SAMPLES.get(file_format.subtype)

    @classmethod
    def create(
        cls, path: Path, file_format: FileFormat, channels: int, sample_rate: int
    ) -> TakeFile:
        """Create `path` (which must not exist) and open it for writing.

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
        command = sf._snd.sf_command
        if file_format.rf64_downgrade:
            command(handle._file, SFC_RF64_AUTO_DOWNGRADE, sf._ffi.NULL, 1)
        command(handle._file, SFC_SET_UPDATE_HEADER_AUTO, sf._ffi.NULL, 1)
        # libsndfile would scan every float sample for a PEAK chunk (6 % of
        # the recorder's CPU at 256 channels); the peaks are in the sidecar.
        # RF64 refuses (the command returns false): see the module docstring.
        command(handle._file, SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
        return cls(path, fd, handle, file_format)

    def set_broadcast_info(self, info: BroadcastInfo) -> None:
        """Give a WAV or RF64 file its bext chunk; only before the first write.

        Raises
        ------
        JackrecError
            When libsndfile refuses it.
        """
        info.set_on(self._handle._file)

    def write(self, frames: npt.NDArray[np.float32]) -> None:
        """Append float32 frames (shape ``(n, channels)``).

        Raises
        ------
        JackrecError
            With the system's reason (``No space left on device``) when the
            write fails.
        """
        try:
            if self._integer is None:
                self._handle.write(frames)
            else:
                self._handle.write(self._integer.convert(frames))
        except (sf.LibsndfileError, RuntimeError) as error:
            reason = self._reason(error)  # before tell(), which clears it
            # A failed write (disk full) may still have put part of the block
            # in the file; count what is there, as the header does.
            with contextlib.suppress(Exception):
                self.frames = self._handle.tell()
            raise JackrecError(reason) from None
        self.frames += len(frames)

    def _reason(self, error: Exception) -> str:
        """libsndfile's message, with the system's reason when there is one.

        For a failed system call libsndfile's error code only says "System
        error."; the handle's own message carries the errno text.
        """
        text = sf._ffi.string(sf._snd.sf_strerror(self._handle._file)).decode(errors="replace")
        text = text.strip().removeprefix("System error :").strip().rstrip(".")
        return text or str(error)

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
