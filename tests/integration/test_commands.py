"""``jackrec ports`` and ``jackrec doctor`` against a real server."""

from __future__ import annotations

import os

from jackrec.source import SourceProcess
from tests.conftest import PERIOD, RATE, run_jackrec


def test_ports_lists_sources_first_with_connections(generator: SourceProcess) -> None:
    result = run_jackrec(["ports", "--server", generator.server])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "sources (outputs):"
    sinks = lines.index("sinks (inputs):")
    sources = "\n".join(lines[:sinks])
    assert "system:capture_1" in sources and "physical" in sources
    assert f"{generator.name}:out_64" in sources
    assert "system:playback_1" in "\n".join(lines[sinks:])


def test_doctor_reports_the_server(generator: SourceProcess) -> None:
    result = run_jackrec(["doctor", "--server", generator.server])
    assert result.returncode == 0, result.stderr
    assert f"running, {RATE} Hz, period {PERIOD}" in result.stdout
    assert "memory locking" in result.stdout and "realtime scheduling" in result.stdout


def test_doctor_without_server_says_what_to_do() -> None:
    result = run_jackrec(["doctor", "--server", f"absent-{os.getpid()}"])
    assert result.returncode == 1
    assert "not reachable" in result.stdout and "->" in result.stdout
