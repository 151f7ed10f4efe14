"""Run a command-line ``main`` while another Python thread spins.

The spinning thread competes for the GIL the whole time, as a busy user
interface or any pure-Python work in the recording process would.

usage: python -m bench.busy MODULE [ARGS...]   (MODULE has ``main(argv)``)
"""

from __future__ import annotations

import importlib
import sys
import threading


def spin() -> None:
    while True:
        pass


def main() -> int:
    module = importlib.import_module(sys.argv[1])
    threading.Thread(target=spin, daemon=True).start()
    return int(module.main(sys.argv[2:]))


if __name__ == "__main__":
    sys.exit(main())
