"""A fixed rig's patch in a file: ``jackrec connections save|load FILE``.

A studio that records the same inputs every day patches them once and
saves the patch; ``load`` makes it again after a reboot, before or after
jackrec starts.  The file is TOML, one pair (source, destination) a line,
so it can be read and edited by hand::

    # JACK connections saved by jackrec from JACK server 'default'
    connections = [
        ["system:capture_1", "jackrec:in_1"],
        ["system:capture_2", "jackrec:in_2"],
    ]

``load`` makes every connection not made yet, leaves every other
connection as it is, and names the ones it could not make (a port that
does not exist, yet).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import jack

from jackrec.errors import JackrecError, UsageError

Pair = tuple[str, str]


def client_of(port: str) -> str:
    return port.split(":", 1)[0]


def current(client: jack.Client, only: str | None = None) -> list[Pair]:
    """Every connection of the graph, sources in JACK's order; with `only`, those
    that touch that client's ports."""
    pairs = []
    for source in client.get_ports(is_output=True):
        for destination in client.get_all_connections(source):
            pair = (source.name, destination.name)
            if only is None or only in map(client_of, pair):
                pairs.append(pair)
    return pairs


def render(pairs: list[Pair], origin: str) -> str:
    """The file's text (TOML, written by hand to keep one pair a line)."""
    lines = [f"# JACK connections saved by jackrec from {origin}", "connections = ["]
    lines += [f"    [{_quoted(source)}, {_quoted(destination)}]," for source, destination in pairs]
    return "\n".join([*lines, "]"]) + "\n"


def _quoted(text: str) -> str:
    """A TOML basic string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else _escaped(c) for c in escaped) + '"'


def _escaped(character: str) -> str:
    code = ord(character)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def save(path: Path, pairs: list[Pair], origin: str) -> None:
    """Write the file whole or not at all (a new file renamed over the old).

    Raises
    ------
    JackrecError
        When it cannot be written.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(render(pairs, origin), encoding="utf-8")
        temporary.replace(path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise JackrecError(f"cannot write {path}: {error.strerror}") from None


def read(path: Path) -> list[Pair]:
    """The pairs a file holds.

    Raises
    ------
    UsageError
        When it cannot be read or is not a list of pairs of port names.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: not TOML ({error})") from None
    pairs = data.get("connections")
    if not isinstance(pairs, list) or not all(
        isinstance(pair, list)
        and len(pair) == 2
        and all(isinstance(port, str) and ":" in port for port in pair)
        for pair in pairs
    ):
        raise UsageError(
            f"{path}: 'connections' must be a list of [source, destination] port names"
        )
    return [(source, destination) for source, destination in pairs]


@dataclass
class Loaded:
    """What `load` did."""

    made: list[Pair] = field(default_factory=list)
    already: list[Pair] = field(default_factory=list)
    failed: list[tuple[Pair, str]] = field(default_factory=list)  # and why


def load(client: jack.Client, pairs: list[Pair]) -> Loaded:
    """Make each connection that is not made yet; never undo one."""
    loaded = Loaded()
    for pair in pairs:
        source, destination = pair
        try:
            if destination in {p.name for p in client.get_all_connections(source)}:
                loaded.already.append(pair)
                continue
            client.connect(source, destination)
        except jack.JackError as error:
            loaded.failed.append((pair, _why(client, pair, error)))
            continue
        loaded.made.append(pair)
    return loaded


def _why(client: jack.Client, pair: Pair, error: jack.JackError) -> str:
    for port in pair:
        try:
            client.get_port_by_name(port)
        except jack.JackError:
            return f"no port {port}"
    return str(error)
