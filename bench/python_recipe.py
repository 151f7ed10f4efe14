"""The recorder Python users write first, for comparison: JACK-Client + queue.

The process callback is Python: it copies each cycle's port buffers into a
NumPy block and puts it on a `queue.Queue`; a writer thread takes blocks
off the queue and writes them with soundfile.  It runs for a wall-clock
duration, as such scripts do.

usage: python -m bench.python_recipe --server S --port PATTERN -c N --seconds T FILE
"""

from __future__ import annotations

import argparse
import fnmatch
import queue
import sys
import threading
import time
from collections.abc import Sequence

import jack
import numpy as np
import soundfile as sf


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python_recipe")
    parser.add_argument("--server")
    parser.add_argument("--port", required=True)
    parser.add_argument("--channels", "-c", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("file")
    args = parser.parse_args(argv)

    client = jack.Client("python-recipe", no_start_server=True, servername=args.server)
    inputs = [client.inports.register(f"in_{i + 1}") for i in range(args.channels)]
    blocks: queue.Queue[np.ndarray | None] = queue.Queue()

    @client.set_process_callback  # type: ignore[untyped-decorator]
    def process(frames: int) -> None:
        blocks.put(np.stack([port.get_array() for port in inputs], axis=1))

    def write() -> None:
        with sf.SoundFile(
            args.file, "w", client.samplerate, args.channels, "FLOAT", format="WAV"
        ) as file:
            while (block := blocks.get()) is not None:
                file.write(block)

    writer = threading.Thread(target=write)
    writer.start()
    sources = [
        port.name
        for port in client.get_ports(is_audio=True, is_output=True)
        if fnmatch.fnmatchcase(port.name, args.port)
    ]
    client.activate()
    for source, port in zip(sources, inputs, strict=False):
        client.connect(source, port)
    time.sleep(args.seconds)
    client.deactivate()
    blocks.put(None)
    writer.join()
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
