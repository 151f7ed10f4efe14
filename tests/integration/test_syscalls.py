"""The JACK thread makes no system call of its own.

jackrec's process thread and that of a minimal C client (which only reads
its input buffers), both connected to the same sources on the same server,
are traced with strace; per cycle, jackrec's thread may make only the calls
JACK itself makes.  (JACK's own
futex calls vary a little with timing, since a wake-up is only a system
call when a thread waits: a call of our own would add a whole one per
cycle, so a tenth per cycle is the margin.)
"""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from jackrec.source import SourceProcess
from tests.conftest import jackrec_command

SECONDS = 3
CHANNELS = 8
HERE = Path(__file__).resolve().parent
MINIMAL_CLIENT = HERE.parent.parent / "cext" / "tests" / "minimal_client.c"

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")


def process_thread_calls(trace_prefix: Path) -> collections.Counter[str]:
    """System calls of the realtime thread, after it became realtime.

    With ``strace -ff`` each thread has its own file; JACK's process thread
    is the one that switches itself to SCHED_FIFO.
    """
    for trace in trace_prefix.parent.glob(trace_prefix.name + ".*"):
        lines = trace.read_text().splitlines()
        marks = [i for i, line in enumerate(lines) if "SCHED_FIFO" in line]
        if marks:
            calls = (line.split("(", 1)[0] for line in lines[marks[0] + 1 :])
            return collections.Counter(c for c in calls if c.isidentifier())
    pytest.skip("no realtime process thread (jackd running without -R?)")


def test_process_thread_makes_only_jacks_own_calls(
    generator: SourceProcess, tmp_path: Path
) -> None:
    client = tmp_path / "minimal_client"
    subprocess.run(
        [
            "gcc",
            "-std=c11",
            "-D_DEFAULT_SOURCE",
            "-O2",
            str(MINIMAL_CLIENT),
            "-ljack",
            "-o",
            str(client),
        ],
        check=True,
        timeout=60,
    )
    minimal = subprocess.run(
        [
            "strace",
            "-f",
            "-ff",
            "-o",
            str(tmp_path / "minimal"),
            str(client),
            generator.server,
            str(SECONDS),
            *generator.port_names[:CHANNELS],
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    minimal_cycles = int(minimal.stdout)

    take = tmp_path / "traced.wav"
    ports = [arg for port in generator.port_names[:CHANNELS] for arg in ("-p", port)]
    jackrec = subprocess.run(
        [
            "strace",
            "-f",
            "-ff",
            "-o",
            str(tmp_path / "jackrec"),
            *jackrec_command(
                "record",
                "--server",
                generator.server,
                *ports,
                "--duration",
                str(SECONDS),
                "--json",
                str(take),
            ),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    jackrec_cycles = json.loads(jackrec.stdout)["cycles"]

    theirs = process_thread_calls(tmp_path / "minimal")
    ours = process_thread_calls(tmp_path / "jackrec")
    per_cycle = {name: n / jackrec_cycles for name, n in ours.items()}
    baseline = {name: n / minimal_cycles for name, n in theirs.items()}
    print(f"per cycle: jackrec {per_cycle}, minimal C client {baseline}")
    assert set(ours) <= set(theirs)
    for name, rate in per_cycle.items():
        assert rate <= baseline[name] + 0.1, (name, rate, baseline[name])
