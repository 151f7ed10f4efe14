"""The console for the benchmark: ``jackrec tui`` as it is, telling where it draws.

Runs the real `ConsoleApp` on a real session, records into `--dir`, and
once it has drawn its first screen writes its PID and its meters' layout
(rows and columns) to `--info-file` as JSON, so the harness can sample
its CPU time and size Textual's floor (`bench.textual_floor`) to match.
With ``--profile FILE``, it times its own pieces (`bench.console_profile`)
over `PROFILE_WINDOW` seconds after `PROFILE_WARM_UP` and writes them there.

usage: python -m bench.tui_runner --server S --port P --dir D --info-file F [--profile F]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench.console_profile import PieceTimers
from jackrec.config import Config
from jackrec.recorder import LocalRecorder
from jackrec.session import Session, SessionOptions
from jackrec.tui import app
from jackrec.tui.app import ConsoleApp

PROFILE_WARM_UP, PROFILE_WINDOW = 3.0, 10.0


class MeasuredConsole(ConsoleApp):
    # Textual finds CSS_PATH beside the module of the class that runs
    CSS_PATH = str(Path(app.__file__).with_name(str(ConsoleApp.CSS_PATH)))

    def __init__(self, recorder: LocalRecorder, info_file: Path, profile: Path | None) -> None:
        super().__init__(recorder)
        self.info_file, self.profile = info_file, profile

    def on_ready(self) -> None:
        layout = self.meters.meter_layout
        info = {"pid": os.getpid(), "rows": layout.rows, "columns": layout.columns}
        self.info_file.write_text(json.dumps(info))
        if self.profile is not None:
            timers = PieceTimers()
            profile = self.profile
            self.set_timer(PROFILE_WARM_UP, timers.start)
            self.set_timer(PROFILE_WARM_UP + PROFILE_WINDOW, lambda: timers.write(profile))


def main() -> int:
    parser = argparse.ArgumentParser(prog="tui_runner")
    parser.add_argument("--server", required=True)
    parser.add_argument("--port", required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--info-file", type=Path, required=True)
    parser.add_argument("--profile", type=Path, help="time the console's pieces into this file")
    args = parser.parse_args()
    session = Session(SessionOptions(ports=(args.port,), server=args.server)).open()
    try:
        config = Config(directory=str(args.dir), template="take{n:03}")
        MeasuredConsole(LocalRecorder(session, config), args.info_file, args.profile).run()
    finally:
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
