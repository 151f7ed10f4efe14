"""The disk filling up mid-take: one clear error, and a take that reads back.

A file-size limit (RLIMIT_FSIZE; Python turns the signal into EFBIG errors)
stands in for a full disk without touching any file system.
"""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

import soundfile as sf

from jackrec import counter
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests.conftest import jackrec_command

LIMIT = 2 * 2**20  # bytes: about 2.7 s of 4 float channels at 48 kHz


def limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_a_full_disk_ends_the_take_with_one_line_and_a_readable_file(
    generator: SourceProcess, tmp_path: Path
) -> None:
    take = tmp_path / "full.wav"
    result = subprocess.run(
        jackrec_command(
            "record", "--server", generator.server, "-p", f"{generator.name}:out_[1-4]",
            "--duration", "30", "-q", str(take),
        ),
        preexec_fn=limit_file_size, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"jackrec: error: writing {take} failed")
    data, _ = sf.read(str(take), dtype="float32")
    assert 0 < len(data) * 16 <= LIMIT
    assert counter.check(data).gapless
    sidecar = read_sidecar(take)
    assert sidecar["ended_by"] == "write error" and sidecar["frames"] == len(data)
