"""The ``jackrec`` command's entry point (also ``python -m jackrec``).

It holds the stop signals (`jackrec.signals`) and imports nothing heavy
before it can answer Ctrl-C: importing the command line (NumPy,
JACK-Client, soundfile, cffi) takes a good part of a second, and a Ctrl-C
then must end the program as quietly as it does later.
"""

from __future__ import annotations

import sys

from jackrec import signals


def main() -> int:
    signals.hold()  # before any thread exists: see jackrec.signals
    try:
        from jackrec.cli import main as command_line

        return command_line()
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
