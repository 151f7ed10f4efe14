"""``make bench``'s cost of the durability interval (``--sync``), side by side.

jackrec records the counter client's ports into a WAV on the local disk,
without ``--sync`` and with ``--sync 1`` (the shortest interval a user is
likely to choose: the cost only falls with a longer one), alternately
(ABBA...) on one private dummy server.  A run's CPU is measured as
`bench.cpu` measures it; each take is checked against the counter, and
its sidecar tells how many syncs there were and the slowest (how long
``fdatasync`` of the take's files kept the writer).  The ring holds 10 s:
a sync slower than that would lose frames, which *lost* shows.

usage: python -m bench.durability [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench import report
from bench.cpu import Case, Variants, run_case
from bench.profiles import ServerConfig
from bench.runfile import ROOT, results_file, unwind_on_sigterm

VARIANTS: Variants = {"off": ("jackrec", ()), "1 s": ("jackrec", ("--sync", "1"))}
CASES = [Case(ServerConfig(48000, 256), 64, "24"), Case(ServerConfig(48000, 256), 256, "float")]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.durability")
    parser.add_argument("--quick", action="store_true", help="64 channels, two runs each")
    args = parser.parse_args()
    unwind_on_sigterm()
    cases, repetitions = (CASES[:1], 2) if args.quick else (CASES, 3)
    what = f"bench.durability: {len(cases)} cases x {repetitions}"
    # the takes go to the disk, as a user's do (not a tmpfs /tmp)
    with (
        results_file("durability", "durability", what) as (output, _),
        tempfile.TemporaryDirectory(dir=ROOT / "build") as tmp,
    ):
        for case in cases:
            run_case(
                case, repetitions, output, Path(tmp), VARIANTS, report.durability_progress_line,
                "durability",
            )  # fmt: skip
    report.write_latest()
    return 0


if __name__ == "__main__":
    sys.exit(main())
