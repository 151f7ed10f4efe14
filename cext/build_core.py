"""cffi build script for ``jackrec._core``, the realtime core (API mode).

The cdef is the public header itself, minus the preprocessor lines cffi
cannot read, so the Python binding and the C code share one declaration.
setuptools runs it through ``setup.py`` (``cffi_modules``); run directly,
it prints the C warning flags for the Makefile.

Every build warns (``-Wall -Wextra``), but only the project's own checks
make a warning an error: with ``JACKREC_WERROR=1`` in the environment the
flags include ``-Werror``.  The Makefile sets it for ``make lint`` (which
compiles the whole extension) and the sanitizer harnesses; a user's
``pip install`` leaves it unset, so a newer compiler's new warning cannot
break the install.
"""

from __future__ import annotations

import os
from pathlib import Path

import cffi

HERE = Path(__file__).resolve().parent
HEADER = HERE / "jackrec_core.h"
SOURCES = ["memory.c", "ring.c", "capture.c", "filewrite.c", "source.c", "latency.c"]

# The Makefile builds the sanitizer harnesses with the same WARNINGS.
WARNINGS = ["-std=c11", "-Wall", "-Wextra"]
if os.environ.get("JACKREC_WERROR") == "1":
    WARNINGS.append("-Werror")
CFLAGS = [*WARNINGS, "-O2"]


def cdef_text(header: Path = HEADER) -> str:
    """Return the header with ``#pragma`` and ``#include`` lines removed."""
    lines = header.read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith(("#pragma", "#include")))


ffibuilder = cffi.FFI()
ffibuilder.cdef(cdef_text())
ffibuilder.set_source(
    "jackrec._core",
    '#include "jackrec_core.h"',
    sources=[str(Path("cext") / name) for name in SOURCES],
    include_dirs=["cext"],
    libraries=["jack", "m"],
    extra_compile_args=CFLAGS,
)

if __name__ == "__main__":
    print(" ".join(WARNINGS))
