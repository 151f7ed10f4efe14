"""Faults injected while recording: the file system failing, JACK's buffer
size changing, memory locking refused, too few file descriptors.

Each ends (or goes on) as a user expects: a one-line message, a take that
reads back gapless against the counter with what was recorded, and never
a traceback.  (The server killed and restarted, a full disk, a stalled
writer, a deleted directory and vanishing sources have tests of their own:
docs/reliability.md lists them.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf

from jackrec import counter
from jackrec.jackclient import DEACTIVATE_SECONDS, OPEN_SECONDS
from jackrec.jackserver import DummyServer
from jackrec.sidecar import read_sidecar
from jackrec.source import SourceProcess
from tests import loopdisk
from tests.conftest import (
    FACES,
    PERIOD,
    RATE,
    jackrec_command,
    let_it_record,
    run_jackrec,
    server_name,
    start_face,
    start_generator,
    start_recording,
    stop_process,
)


def finish(process: subprocess.Popen[str], timeout: float = 20.0) -> tuple[int, str]:
    """Its exit status and stderr, once it has ended (bounded)."""
    try:
        _, stderr = process.communicate(timeout=timeout)
    finally:
        stop_process(process)
    return process.returncode, stderr


def assert_gapless(take: Path) -> int:
    data, _ = sf.read(str(take), dtype="float32")
    report = counter.check(data)
    assert report.gapless and report.exact and report.channels_in_order, report
    return len(data)


@pytest.mark.skipif(loopdisk.available() is not None, reason=str(loopdisk.available()))
def test_a_file_system_turning_read_only_ends_the_take_with_one_line(
    generator: SourceProcess, tmp_path: Path
) -> None:
    """ext4 meets an error and turns read-only under the take: the writer's
    next write fails, the take ends with the reason, and what reached the
    file before reads back gapless, up to its last header update."""
    with loopdisk.ext4_disk(tmp_path) as disk:
        take = disk / "take.wav"
        process = start_recording(generator, take, "-q")
        try:
            let_it_record(take, 2.5)
            loopdisk.fail(disk)
            status, stderr = finish(process)
        finally:
            stop_process(process)
        assert status == 1
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and "Read-only file system" in lines[0], stderr
        assert "Traceback" not in stderr
        frames = assert_gapless(take)
        assert frames >= read_sidecar(take)["frames"] > RATE  # the sidecar never says more


def test_buffer_size_changes_while_recording_lose_nothing(tmp_path: Path) -> None:
    """``jack_bufsize`` twice mid-take (up, then down): one gapless take."""
    name = server_name("bufsize")
    take = tmp_path / "take.wav"
    with DummyServer(name, rate=RATE, period=PERIOD, synchronous=True) as server:
        generator = start_generator(server.name, 2, "counter-b")
        try:
            process = start_recording(generator, take, "--json")
            try:
                let_it_record(take, 1.0)
                for period in (4 * PERIOD, PERIOD // 2):
                    environment = {**os.environ, "JACK_DEFAULT_SERVER": server.name}
                    subprocess.run(
                        ["jack_bufsize", str(period)], env=environment,
                        check=True, capture_output=True, timeout=10,
                    )  # fmt: skip
                    time.sleep(1.0)
                process.send_signal(signal.SIGINT)
                status, stderr = finish(process)
            finally:
                stop_process(process)
        finally:
            generator.stop()
    assert status == 0, stderr
    frames = assert_gapless(take)
    sidecar = read_sidecar(take)
    assert frames == sidecar["frames"] > 2.5 * RATE and sidecar["frames_lost"] == 0


#: How each face is asked to stop: Ctrl-C at a terminal, SIGTERM from systemd.
STOP_SIGNAL = {"record": signal.SIGINT, "service": signal.SIGTERM, "console": signal.SIGINT}


@pytest.mark.parametrize("face", FACES)
def test_stopped_and_continued_it_records_on_and_marks_the_gap(
    generator: SourceProcess, tmp_path: Path, face: str
) -> None:
    """Ctrl-Z and ``fg`` (SIGSTOP, SIGCONT), or a whole process stalled, past
    the status line's interval and the service's watchdog step: CPython's
    sigtimedwait then returned a siginfo it never filled, and ``jackrec
    record`` died of a traceback; now every face records on, and ends on its
    stop signal with its take finalized.  The cycles JACK ran while it was
    stopped are a gap of exactly their length, at their frame (JACK's frame
    time says how many): the take keeps the counter's timeline."""
    take = tmp_path / "take.wav"
    process = start_face(face, generator, tmp_path, channels=4, stderr=subprocess.PIPE)
    try:
        let_it_record(take, 0.5)
        process.send_signal(signal.SIGSTOP)
        time.sleep(1.5)
        process.send_signal(signal.SIGCONT)
        time.sleep(1.0)
        assert process.poll() is None, process.communicate()[1]
        process.send_signal(STOP_SIGNAL[face])
        _, stderr = process.communicate(timeout=20)
    finally:
        stop_process(process)
        if process.stdin is not None:  # the console's terminal
            process.stdin.close()
    assert process.returncode == 0 and b"Traceback" not in stderr, stderr
    sidecar = read_sidecar(take)
    assert sidecar["complete"] and sidecar["ended_by"] == "stop request"
    data, _ = sf.read(str(take), dtype="float32")
    report = counter.check(data)
    assert report.timeline_kept and report.filled_gaps, report  # silence where JACK ran on
    assert [(gap["file_frame"], gap["frames"]) for gap in sidecar["gaps"]] == report.filled_gaps


@pytest.fixture
def stoppable_server() -> Iterator[DummyServer]:
    """A server of the test's own, which it may stop (SIGSTOP) and continue."""
    server = DummyServer(server_name("stoppable"), rate=RATE, period=PERIOD, synchronous=True)
    server.start()
    try:
        yield server
    finally:
        assert server.pid is not None
        os.kill(server.pid, signal.SIGCONT)
        server.stop()


@pytest.mark.parametrize("face", FACES)
def test_a_server_that_stops_answering_leaves_the_take_finalized(
    stoppable_server: DummyServer, tmp_path: Path, face: str
) -> None:
    """jackd stopped (as one whose request thread hangs: jackd 1.9.21 in
    asynchronous mode after a client stalled, docs/reliability.md): the stop
    gives up on deactivating after `DEACTIVATE_SECONDS`, finalizes the take,
    and says so; it never waits for good."""
    assert stoppable_server.pid is not None
    generator = start_generator(stoppable_server.name, 4, "counter")
    take = tmp_path / "take.wav"
    try:
        process = start_face(face, generator, tmp_path, channels=4, stderr=subprocess.PIPE)
        try:
            let_it_record(take, 1.0)
            os.kill(stoppable_server.pid, signal.SIGSTOP)
            process.send_signal(STOP_SIGNAL[face])
            _, stderr = process.communicate(timeout=DEACTIVATE_SECONDS + 10)
        finally:
            stop_process(process)
            if process.stdin is not None:
                process.stdin.close()
    finally:
        os.kill(stoppable_server.pid, signal.SIGCONT)
        generator.stop()
    assert process.returncode == 0 and b"Traceback" not in stderr, stderr
    if face != "console":  # the console says it on its screen
        assert f"did not answer in {DEACTIVATE_SECONDS:g} s (hung?)".encode() in stderr, stderr
    sidecar = read_sidecar(take)
    assert sidecar["complete"] and sidecar["ended_by"] == "stop request"
    assert counter.check_file(take).gapless
    assert sidecar["frames"] == sf.info(str(take)).frames > 0.5 * RATE


def test_a_server_that_does_not_answer_is_one_line(stoppable_server: DummyServer) -> None:
    assert stoppable_server.pid is not None
    os.kill(stoppable_server.pid, signal.SIGSTOP)
    result = run_jackrec(["ports", "--server", stoppable_server.name], timeout=OPEN_SECONDS + 20)
    assert result.returncode == 1
    assert result.stderr == (
        f"jackrec: error: JACK server '{stoppable_server.name}' did not answer in "
        f"{OPEN_SECONDS:g} s: is it hung? (restart it)\n"
    )


#: No CAP_IPC_LOCK (which root has, and with which any amount may be locked).
NO_LOCKING_CAPABILITY = ("setpriv", "--bounding-set=-ipc_lock", "--")


def test_refused_memory_locking_is_said_once_and_the_take_is_whole(
    generator: SourceProcess, tmp_path: Path
) -> None:
    """A user outside the audio group may lock 8 MiB (Debian's default), less
    than a ring of 60 s: recorded unlocked, and said so."""
    take = tmp_path / "take.wav"
    refused = ("prlimit", "--memlock=8388608", *NO_LOCKING_CAPABILITY)
    process = start_recording(generator, take, "--buffer", "60", "--duration", "1", prefix=refused)
    status, stderr = finish(process)
    assert status == 0, stderr
    assert stderr.count("could not lock the ring in RAM") == 1, stderr
    assert read_sidecar(take)["memory_locked"] is False
    assert assert_gapless(take) == RATE


def test_no_lockable_memory_at_all_is_named_as_the_reason(
    generator: SourceProcess, tmp_path: Path
) -> None:
    """libjack maps the server's semaphores locked: without any lockable
    memory it cannot connect, which is not a server that is not running."""
    take = tmp_path / "take.wav"
    refused = ("prlimit", "--memlock=0", *NO_LOCKING_CAPABILITY)
    status, stderr = finish(start_recording(generator, take, "--duration", "1", prefix=refused))
    assert status == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "is memory locking refused?" in lines[0], stderr
    assert not take.exists()


def test_too_few_file_descriptors_is_a_one_line_error(
    generator: SourceProcess, tmp_path: Path
) -> None:
    """A split take of 64 files needs more descriptors than the limit allows:
    refused with the system's reason, and no file of it left behind."""
    take = tmp_path / "take.wav"
    wide = [arg for port in generator.port_names[:64] for arg in ("-p", port)]
    command = jackrec_command(
        "record", "--server", generator.server, "-q", "--split", "mono", "--duration", "1",
        *wide, str(take),
    )  # fmt: skip
    result = subprocess.run(
        ["prlimit", "--nofile=48:48", "--", *command],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Too many open files" in lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []
