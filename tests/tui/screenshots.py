"""Regenerate the console screenshots in docs/screenshots (``make screenshots``).

The main screen and the help use the frozen recorder of the snapshot tests,
so the pictures are stable; the patch panel is taken on a private dummy
JACK server with an 8-channel source, so it shows a real graph.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from pathlib import Path

from jackrec.config import Config
from jackrec.jackserver import DummyServer
from jackrec.recorder import LocalRecorder
from jackrec.session import Session, SessionOptions
from jackrec.source import SourceProcess
from jackrec.tui.app import ConsoleApp
from tests.tui.frozen import FrozenRecorder

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shoot(app: ConsoleApp, name: str, size: tuple[int, int], keys: Sequence[str] = ()) -> None:
    async def run() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause(0.5)
            await pilot.press(*keys)
            await pilot.pause(0.3)
            (DOCS / f"{name}.svg").write_text(app.export_screenshot(title=f"jackrec: {name}"))

    asyncio.run(run())


def steady() -> ConsoleApp:
    counter = itertools.count()
    return ConsoleApp(FrozenRecorder(16), now=lambda: float(next(counter)))


def main() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    shoot(steady(), "console", (100, 26))
    shoot(ConsoleApp(FrozenRecorder(128), now=lambda: 0.0), "console-128-channels", (80, 24))
    shoot(steady(), "help", (80, 24), ["question_mark"])
    with DummyServer("jackrec-screenshots") as server:
        source = SourceProcess(server.name, 8, "sine", name="synth").start()
        try:
            session = Session(SessionOptions(ports=("synth:out_[1-4]",), server=server.name))
            session.open()
            try:
                shoot(ConsoleApp(LocalRecorder(session, Config())), "patch-panel", (80, 24), ["t"])
            finally:
                session.close()
        finally:
            source.stop()


if __name__ == "__main__":
    main()
