"""Per-take peak and clip measurement, in C (``cext/peaks.c``).

Called by the disk writer on the frames it hands to a take, with the GIL
released; never in the JACK thread.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from jackrec._core import ffi, lib


def accumulate_peaks(
    frames: npt.NDArray[np.float32],
    peaks: npt.NDArray[np.float32],
    clips: npt.NDArray[np.uint64],
) -> None:
    """Fold C-contiguous frames ``(n, channels)`` into per-channel `peaks` and `clips`."""
    lib.jr_peaks_accumulate(
        ffi.from_buffer("float[]", frames),
        len(frames),
        frames.shape[1],
        ffi.from_buffer("float[]", peaks),
        ffi.from_buffer("uint64_t[]", clips),
    )
