"""The JSON sidecar written beside each take (``take.wav`` -> ``take.wav.json``).

It is rewritten atomically (temporary file, then rename) when recording
starts, at each gap and when the take is finalized, so it always parses,
even after a crash; ``"complete": false`` marks a take that was never
finalized.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def sidecar_path(take: Path) -> Path:
    return take.with_name(take.name + ".json")


def write_sidecar(take: Path, data: dict[str, Any]) -> None:
    """Atomically replace the sidecar of `take` with `data`."""
    path = sidecar_path(take)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2)
        file.write("\n")
    os.replace(temporary, path)


def read_sidecar(take: Path) -> dict[str, Any]:
    with open(sidecar_path(take), encoding="utf-8") as file:
        data: dict[str, Any] = json.load(file)
    return data
