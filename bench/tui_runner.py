"""The console for the benchmark: ``jackrec tui`` with a chosen redraw rate.

Runs the real `ConsoleApp` on a real session; the only difference from
``jackrec tui`` is the meter frame interval, so the benchmark can redraw
at 30 Hz or flat out (as fast as Textual can).  It writes its PID to a
file so the harness can sample its CPU time.

usage: python -m bench.tui_runner --server S --port P --dir D --frame-seconds F --pid-file F
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from jackrec.config import Config
from jackrec.recorder import LocalRecorder
from jackrec.session import Session, SessionOptions
from jackrec.tui import app as console


def main() -> int:
    parser = argparse.ArgumentParser(prog="tui_runner")
    parser.add_argument("--server", required=True)
    parser.add_argument("--port", required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--frame-seconds", type=float, default=console.FRAME_SECONDS)
    parser.add_argument("--pid-file", type=Path, required=True)
    args = parser.parse_args()
    console.FRAME_SECONDS = args.frame_seconds
    session = Session(SessionOptions(ports=(args.port,), server=args.server)).open()
    try:
        args.pid_file.write_text(str(os.getpid()))
        config = Config(directory=str(args.dir), template="take{n:03}")
        console.ConsoleApp(LocalRecorder(session, config)).run()
    finally:
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
