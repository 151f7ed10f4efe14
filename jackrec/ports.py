"""Choosing JACK source ports: patterns, defaults, and listings.

A pattern is a shell-style glob (``system:capture_*``) matched against the
full port name and its aliases, or, with a ``re:`` prefix, a regular
expression searched in them (``re:capture_(1|2)$``), as ``jack_lsp`` does.
Matches keep JACK's port order; several patterns are taken in the order
given, each port at most once.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jack

from jackrec.errors import UsageError

REGEX_PREFIX = "re:"


def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """Return a predicate over port names for one ``--port`` pattern."""
    if pattern.startswith(REGEX_PREFIX):
        try:
            regex = re.compile(pattern[len(REGEX_PREFIX) :])
        except re.error as error:
            raise UsageError(f"bad regular expression '{pattern}': {error}") from None
        return lambda name: regex.search(name) is not None
    return lambda name: fnmatch.fnmatchcase(name, pattern)


def audio_sources(client: jack.Client) -> list[jack.Port]:
    """Audio output ports of other clients, in JACK's order."""
    own = client.name + ":"
    return [
        port
        for port in client.get_ports(is_audio=True, is_output=True)
        if not port.name.startswith(own)
    ]


def match_sources(
    client: jack.Client, patterns: Sequence[str], *, required: bool = True
) -> list[str]:
    """Source port names matching `patterns`, in order, without repeats.

    Raises
    ------
    UsageError
        When a pattern matches no audio source port (if `required`).
    """
    sources = audio_sources(client)
    chosen: list[str] = []
    for pattern in patterns:
        matches = compile_pattern(pattern)
        found = [
            port.name
            for port in sources
            if any(matches(name) for name in (port.name, *port.aliases))
        ]
        if not found and required:
            raise UsageError(f"no JACK audio source port matches '{pattern}' (see 'jackrec ports')")
        chosen.extend(name for name in found if name not in chosen)
    return chosen


def physical_sources(client: jack.Client) -> list[str]:
    """The physical capture ports, in JACK's order."""
    return [port.name for port in audio_sources(client) if port.is_physical]


@dataclass(frozen=True)
class PortInfo:
    name: str
    type: str
    is_source: bool
    is_physical: bool
    connections: tuple[str, ...]


def list_ports(client: jack.Client) -> list[PortInfo]:
    """Every port of the graph, sources (outputs) first."""
    ports = client.get_ports()
    infos = [
        PortInfo(
            name=port.name,
            type=port.type,
            is_source=port.is_output,
            is_physical=port.is_physical,
            connections=tuple(p.name for p in client.get_all_connections(port)),
        )
        for port in ports
    ]
    return sorted(infos, key=lambda info: not info.is_source)
