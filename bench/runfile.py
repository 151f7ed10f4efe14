"""A benchmark's results file: one JSON line a row, the machine's line first.

Every harness (``python -m bench``, `bench.split`, `bench.cpu`,
`bench.console`) writes its rows as it measures them into
``bench/results/<time>-<kind>.jsonl``; `bench.report` finds the newest
file of each kind and makes ``docs/benchmarks.md`` from them.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from bench.machine import describe

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def unwind_on_sigterm() -> None:
    """SIGTERM (a timeout, CI) unwinds like Ctrl-C, so every server and
    client a harness started is stopped by its context manager."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


@contextmanager
def results_file(kind: str, profile: str, what: str) -> Iterator[tuple[TextIO, Path]]:
    """A new results file of `kind`, its machine line written (of `profile`);
    says where it goes, after `what` is measured."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}-{kind}.jsonl"
    print(f"{what} -> {path.relative_to(ROOT)}", flush=True)
    with open(path, "w") as output:
        output.write(json.dumps({**describe(), "profile": profile, "date": stamp}) + "\n")
        yield output, path


def append(output: TextIO, row: dict[str, Any], line: str | None = None) -> None:
    """Write `row` at once (a run cut short keeps what it measured), and show `line`."""
    output.write(json.dumps(row) + "\n")
    output.flush()
    if line is not None:
        print(line, flush=True)
