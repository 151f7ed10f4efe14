"""Bad input, property-based: settings files and command lines of any shape.

Whatever a settings file holds, loading it gives settings or one line that
names the file; whatever a command line holds, jackrec answers with its
help, a result or one line, an exit status, never a traceback, and creates
no file.  (Control-socket messages: tests/test_control_socket.py; OSC:
tests/test_osc.py.)
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jackrec import config
from jackrec.errors import UsageError
from jackrec.service_config import ServiceConfig

#: tmp_path is the same for every example: each test clears what it uses.
FIXTURE = HealthCheck.function_scoped_fixture
KEYS = [f.name for f in dataclasses.fields(config.Config) if f.name != "service"]
SERVICE_KEYS = [f.name for f in dataclasses.fields(ServiceConfig)]
toml_values = st.recursive(
    st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["1h", "15m", "2G", "-3", "0", "wav", "24", "pairs", "1-2,3-4", "{n}"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
tables = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), toml_values, max_size=5)
service_tables = st.dictionaries(
    st.sampled_from(SERVICE_KEYS) | st.text(max_size=8), toml_values, max_size=4
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables, st.none() | service_tables)
def test_any_settings_file_loads_or_is_one_line(
    tmp_path: Path, table: dict[str, Any], service: dict[str, Any] | None
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps({**table, **({} if service is None else {"service": service})}))
    try:
        loaded = config.load(path)
    except UsageError as error:
        assert str(error).startswith(str(path)) or str(path) in str(error)
        assert "\n" not in str(error)
        return
    loaded.check("again")  # what loads is in range


OPTIONS = [
    "--format", "--bits", "--channels", "--port", "--duration", "--buffer", "--rotate",
    "--rotate-size", "--split", "--sync", "--quality", "--preroll", "--trigger",
    "--trigger-hold", "--name", "--server", "--takes", "--on-start", "--hook-timeout",
    "--dither", "--align", "--transport", "--json", "-q",
]  # fmt: skip
COMMANDS = ["record", "repair", "markers", "ports", "ctl", "nope"]
words = st.sampled_from(OPTIONS) | st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\0"), max_size=10
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(COMMANDS), st.lists(words, max_size=6))
def test_any_command_line_is_answered_in_one_line(
    tmp_path: Path, command: str, arguments: list[str]
) -> None:
    """No JACK server is reachable (its name is one nobody uses), and the
    process runs in an empty directory of its own, which must stay empty
    but for what a successful command was asked to write."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    for leftover in work.iterdir():
        leftover.unlink()
    environment = {
        **os.environ,
        "JACK_DEFAULT_SERVER": "jackrec-nobody-serves-this",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_RUNTIME_DIR": str(tmp_path / "runtime"),
        "HOME": str(tmp_path / "home"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "jackrec.cli", command, *arguments],
        cwd=work, env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    if result.returncode != 0:  # one line (repair and markers: one a file)
        lines = result.stderr.strip().splitlines()
        assert 1 <= len(lines) <= max(1, len(arguments)), result.stderr
        assert all(line.startswith("jackrec: error: ") for line in lines), result.stderr
        assert list(work.iterdir()) == [], result.stderr
