"""From raw results (``bench/results/*.jsonl``) to ``docs/benchmarks.md``.

Every figure in a table is the median over repetitions; ratios are taken
between medians measured in the same run, on the same server.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench.recorders import CLIENT_NAMES, RECORDERS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RESULTS = ROOT / "bench" / "results"
LABELS = {"jackrec": "jackrec", "jack_capture": "jack_capture", "python": "Python recipe"}

Row = dict[str, Any]


def progress_line(result: Row) -> str:
    what = result["recorder"] + (" (busy GIL)" if result["busy"] else "")
    rate = f"{result['rate'] // 1000}k/{result['period']}"
    late = sum(result.get("late_clients", {}).values())
    figures = f"driver xruns {result['driver_late']}, late clients {late}"
    if result["recorder"] != "idle":
        figures += (
            f", lost {result.get('lost_frames', '?')}, torn {result.get('torn_stretches', '?')}, "
            f"cpu {result.get('cpu_seconds', 0):.2f} s, exit {result.get('exit_code')}"
        )
    return f"  {rate} {result['channels']:>4} ch  {what:<22} {figures}"


def load(path: Path) -> tuple[Row, dict[str, list[Row]]]:
    """The machine line, and the other lines by kind (run, ring, cpu, console, ...)."""
    machine: Row = {}
    rows: dict[str, list[Row]] = defaultdict(list)
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["kind"] == "machine":
            machine = row
        else:
            rows[row["kind"]].append(row)
    return machine, rows


def median(rows: Iterable[Row], value: Callable[[Row], float | None]) -> float | None:
    values = [v for v in (value(row) for row in rows) if v is not None]
    return statistics.median(values) if values else None


def late_self(row: Row) -> int:
    """xruns the server blamed on this run's recorder."""
    name = CLIENT_NAMES.get(row["recorder"], "")
    return sum(n for client, n in row.get("late_clients", {}).items() if client.startswith(name))


def failed(row: Row) -> bool:
    return row.get("exit_code") not in (0, None) or "frames_in_file" not in row


def percent(share: float | None) -> float | None:
    return None if share is None else 100 * share


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


class Results:
    """Runs grouped by (rate, period, channels, recorder, busy)."""

    def __init__(self, runs: list[Row]) -> None:
        self.groups: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
        for row in runs:
            key = (row["rate"], row["period"], row["channels"], row["recorder"], row["busy"])
            self.groups[key].append(row)
        self.configs = sorted({(r["rate"], r["period"]) for r in runs}, key=lambda c: -c[1])
        self.channels = sorted({r["channels"] for r in runs if not r["busy"]})
        self.busy_channels = sorted({r["channels"] for r in runs if r["busy"]})

    def rows(
        self, config: tuple[int, int], channels: int, recorder: str, busy: bool = False
    ) -> list[Row]:
        return self.groups.get((*config, channels, recorder, busy), [])

    def value(
        self,
        config: tuple[int, int],
        channels: int,
        recorder: str,
        get: Callable[[Row], float | None],
        busy: bool = False,
    ) -> float | None:
        rows = self.rows(config, channels, recorder, busy)
        if recorder != "idle" and rows and all(failed(row) for row in rows):
            return None
        return median((row for row in rows if recorder == "idle" or not failed(row)), get)

    def lost(
        self, config: tuple[int, int], channels: int, recorder: str, busy: bool = False
    ) -> str:
        rows = self.rows(config, channels, recorder, busy)
        if not rows:
            return "-"
        failures = sum(failed(row) for row in rows)
        text = fmt(self.value(config, channels, recorder, lambda r: r["lost_frames"], busy))
        return text + (f" ({failures} failed)" if failures else "")


def config_label(config: tuple[int, int]) -> str:
    return f"{config[0] // 1000} kHz / period {config[1]}"


def loss_table(results: Results, config: tuple[int, int]) -> list[str]:
    lines = [
        "| channels | idle: driver xruns | idle: late clients | "
        + " | ".join(f"{LABELS[r]} lost" for r in RECORDERS)
        + " | "
        + " | ".join(f"{LABELS[r]} torn" for r in RECORDERS)
        + " | "
        + " | ".join(f"{LABELS[r]} late" for r in RECORDERS)
        + " |",
        "|" + "---:|" * (3 + 3 * len(RECORDERS)),
    ]
    for channels in results.channels:
        idle_driver = results.value(config, channels, "idle", lambda r: r["driver_late"])
        idle_late = results.value(
            config, channels, "idle", lambda r: sum(r.get("late_clients", {}).values())
        )
        cells = [str(channels), fmt(idle_driver), fmt(idle_late)]
        cells += [results.lost(config, channels, r) for r in RECORDERS]
        cells += [
            fmt(results.value(config, channels, r, lambda row: row["torn_stretches"]))
            for r in RECORDERS
        ]
        cells += [fmt(results.value(config, channels, r, late_self)) for r in RECORDERS]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def cost_table(results: Results, config: tuple[int, int]) -> list[str]:
    lines = [
        "| channels | "
        + " | ".join(f"{LABELS[r]} CPU s/ch-h" for r in RECORDERS)
        + " | jackrec / jack_capture CPU | "
        + " | ".join(f"{LABELS[r]} RSS MB" for r in RECORDERS)
        + " | "
        + " | ".join(f"DSP % ({LABELS[r]}) mean/max" for r in RECORDERS)
        + " |",
        "|" + "---:|" * (2 + 3 * len(RECORDERS)),
    ]
    for channels in results.channels:
        cpu = {
            r: results.value(config, channels, r, lambda row: row["cpu_s_per_channel_hour"])
            for r in RECORDERS
        }
        ratio = (
            cpu["jackrec"] / cpu["jack_capture"]
            if cpu["jackrec"] is not None and cpu["jack_capture"]
            else None
        )
        cells = [str(channels), *(fmt(cpu[r], 1) for r in RECORDERS), fmt(ratio, 2)]
        cells += [
            fmt(results.value(config, channels, r, lambda row: row["peak_rss_mb"]))
            for r in RECORDERS
        ]
        for r in RECORDERS:
            mean = results.value(config, channels, r, lambda row: row["dsp_load_mean"])
            peak = results.value(config, channels, r, lambda row: row["dsp_load_max"])
            cells.append(f"{fmt(mean, 1)} / {fmt(peak, 1)}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def callback_table(results: Results) -> list[str]:
    lines = [
        "| configuration | channels | max µs | p99.9 µs | p99.9 % of period |",
        "|---|---:|---:|---:|---:|",
    ]
    for config in results.configs:
        period_us = 1e6 * config[1] / config[0]
        for channels in results.channels:
            worst = results.value(config, channels, "jackrec", lambda r: r.get("callback_us_max"))
            p999 = results.value(config, channels, "jackrec", lambda r: r.get("callback_us_p999"))
            share = None if p999 is None else 100 * p999 / period_us
            lines.append(
                f"| {config_label(config)} | {channels} | {fmt(worst, 1)} | {fmt(p999, 1)} | "
                f"{fmt(share, 2)} |"
            )
    return lines


def busy_table(results: Results) -> list[str]:
    lines = [
        "| configuration | channels | jackrec lost (busy) | Python lost (busy) "
        "| Python lost (not busy) |",
        "|---|---:|---:|---:|---:|",
    ]
    for config in results.configs:
        for channels in results.busy_channels:
            lines.append(
                f"| {config_label(config)} | {channels} "
                f"| {results.lost(config, channels, 'jackrec', True)} "
                f"| {results.lost(config, channels, 'python', True)} "
                f"| {results.lost(config, channels, 'python')} |"
            )
    return lines


def ring_table(rings: list[Row]) -> list[str]:
    lines = [
        "| period | channels | memcpy µs | ring write µs | callback µs | ring / memcpy "
        "| callback / memcpy | callback p99.9 µs |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in sorted(rings, key=lambda r: (r["period"], r["channels"])):
        memcpy, ring, callback = (
            row[k]["median"] / 1000 for k in ("memcpy_ns", "ring_ns", "callback_ns")
        )
        lines.append(
            f"| {row['period']} | {row['channels']} | {memcpy:.2f} | {ring:.2f} "
            f"| {callback:.2f} | {ring / memcpy:.2f} | {callback / memcpy:.2f} "
            f"| {row['callback_ns']['p999'] / 1000:.2f} |"
        )
    return lines


def targets(results: Results) -> list[str]:
    """The issue's targets, each checked against the medians."""
    lines = []
    for config in results.configs:
        label = config_label(config)
        quiet = [
            ch
            for ch in results.channels
            if results.value(config, ch, "idle", lambda r: sum(r.get("late_clients", {}).values()))
            == 0
        ]
        lossy = [
            ch for ch in quiet if results.value(config, ch, "jackrec", lambda r: r["lost_frames"])
        ]
        lines.append(
            f"- {label}: jackrec lost no frames at every channel count where the idle run "
            f"showed no late clients ({', '.join(map(str, quiet)) or 'none'})"
            if not lossy
            else f"- {label}: jackrec lost frames at {lossy} despite a quiet idle run"
        )
        gapless = {
            r: [
                ch
                for ch in results.channels
                if results.value(config, ch, r, lambda row: row["lost_frames"]) == 0
            ]
            for r in ("jackrec", "jack_capture")
        }
        lines.append(
            f"- {label}: gapless (median) at {gapless['jackrec'] or 'no'} channels for jackrec, "
            f"{gapless['jack_capture'] or 'no'} for jack_capture"
        )
        for ch in (64, 256):
            jr = results.value(config, ch, "jackrec", lambda r: r["cpu_s_per_channel_hour"])
            jc = results.value(config, ch, "jack_capture", lambda r: r["cpu_s_per_channel_hour"])
            if jr is not None and jc:
                verdict = "at or below" if jr <= jc else f"{100 * (jr / jc - 1):.0f} % above"
                lines.append(
                    f"- {label}, {ch} channels: jackrec CPU {jr:.1f} s per channel-hour, "
                    f"{verdict} jack_capture's {jc:.1f}"
                )
        p999 = results.value(config, 64, "jackrec", lambda r: r.get("callback_us_p999"))
        if p999 is not None:
            share = 100 * p999 * config[0] / (1e6 * config[1])
            lines.append(
                f"- {label}, 64 channels: callback p99.9 {p999:.1f} µs = {share:.2f} % of the "
                f"period ({'under' if share < 5 else 'over'} the 5 % target)"
            )
    return lines


def plot(results: Results, path: Path) -> bool:
    """Lost frames and CPU per channel against channels; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, axes = plt.subplots(2, len(results.configs), figsize=(6 * len(results.configs), 8))
    axes = axes.reshape(2, -1)
    for column, config in enumerate(results.configs):
        for recorder in RECORDERS:
            lost = [
                results.value(config, ch, recorder, lambda r: r["lost_frames"])
                for ch in results.channels
            ]
            cpu = [
                results.value(config, ch, recorder, lambda r: r["cpu_s_per_channel_hour"])
                for ch in results.channels
            ]
            axes[0, column].plot(results.channels, lost, marker="o", label=LABELS[recorder])
            axes[1, column].plot(results.channels, cpu, marker="o", label=LABELS[recorder])
        axes[0, column].set_title(f"lost frames, {config_label(config)}")
        axes[0, column].set_yscale("symlog", linthresh=1)
        axes[1, column].set_title(f"CPU s per channel-hour, {config_label(config)}")
        for ax in axes[:, column]:
            ax.set_xscale("log", base=2)
            ax.set_xlabel("channels")
            ax.grid(True, alpha=0.3)
            ax.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def write(results_path: Path) -> None:
    machine, rows = load(results_path)
    runs, rings = rows["run"], rows["ring"]
    results = Results(runs)
    plotted = plot(results, DOCS / "benchmarks.png")
    realtime = {row.get("server_realtime") for row in runs}
    reps = max((row["repetition"] + 1 for row in runs), default=0)
    seconds = runs[0]["seconds"] if runs else 0
    text = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m bench`) from "
        f"`{results_path.relative_to(ROOT)}`; do not edit by hand.",
        "",
        "## Machine and method",
        "",
        f"- CPU: {machine.get('cpu')}, {machine.get('cores')} cores; kernel "
        f"{machine.get('kernel')}; clocksource {machine.get('clocksource')}",
        f"- realtime: jackd {'realtime (SCHED_FIFO)' if realtime == {True} else 'NOT realtime'}"
        f"; this user may {'' if machine.get('realtime_scheduling') else 'not '}use realtime "
        f"scheduling; memory locking {'works' if machine.get('memory_locking') else 'refused'}",
        f"- {machine.get('jack_capture')}; Python {machine.get('python')}",
        f"- profile `{machine.get('profile')}` ({machine.get('date')}): {reps} repetitions of "
        f"{seconds:g} s per cell, medians shown; a private asynchronous `jackd -d dummy` server "
        "per configuration and channel count, the counter client (`jackrec demo-source`, C "
        "callback) in its own process, recorders run one after another on the same ports.",
        "- *lost*: frames missing from the take's timeline, whether dropped or (jackrec) "
        "replaced by silence; *torn*: stretches overwritten while a late client read them "
        "(nothing lost, samples wrong; JACK's asynchronous mode); *late*: xruns the server "
        "blamed on the recorder's client; *idle*: the same server with the counter client only.",
        "- CPU is user + system time of the recorder process (`wait4`), per channel-hour; DSP "
        "load is JACK's own estimate, sampled four times a second.",
        "",
        "## Targets",
        "",
        *targets(results),
        "",
        *cpu_section(str(machine.get("date", ""))),
        *durability_section(),
    ]
    for config in results.configs:
        text += [
            f"## {config_label(config)}",
            "",
            "Frames lost, torn stretches and xruns (median per run):",
            "",
            *loss_table(results, config),
            "",
            "Cost:",
            "",
            *cost_table(results, config),
            "",
        ]
    text += [
        "## GIL contention",
        "",
        "The same runs while a Python thread in the recording process spins (`bench/busy.py`).",
        "",
        *busy_table(results),
        "",
        *console_section(),
        "## jackrec's process callback",
        "",
        "As jackrec measures it (CLOCK_MONOTONIC around the callback, 12.5 % histogram "
        "resolution; p99.9 is the bucket's upper bound).",
        "",
        *callback_table(results),
        "",
        "## Ring and callback against memcpy",
        "",
        "`bench/ringbench.c`: per JACK cycle, `memcpy` of the cycle's bytes, `jr_ring_write` of "
        "the same bytes, and the real process callback (port buffers, meters, interleave) "
        "through a stand-in for libjack; medians of interleaved repetitions.",
        "",
        *ring_table(rings),
        "",
    ]
    text += split_section()
    if plotted:
        text += ["## Plot", "", "![lost frames and CPU per channel](benchmarks.png)", ""]
    (DOCS / "benchmarks.md").write_text("\n".join(text))


def newest(profile: str) -> Path | None:
    """The newest results file of `profile` (full, quick, split)."""
    found = sorted(RESULTS.glob(f"*-{profile}.jsonl"))
    return found[-1] if found else None


def write_latest() -> None:
    """Regenerate the report from the newest full results (else quick ones)."""
    path = newest("full") or newest("quick")
    if path is not None:
        write(path)


def to_disk(row: Row) -> float | None:
    """A split run's time to disk over its duration (None: it never finalized)."""
    return None if row["writing"] is None else float(row["writing"]) / row["seconds"]


def split_section() -> list[str]:
    """2048 channels in split takes (`bench.split`), from its newest results."""
    path = newest("split")
    if path is None:
        return []
    machine, rows = load(path)
    cases: dict[tuple[int, str, str], list[Row]] = defaultdict(list)
    for row in rows["split"]:
        cases[(row["channels"], row["bits"], row["split"])].append(row)
    text = [
        "## 2048 channels: split takes",
        "",
        f"`bench/split.py` (`{path.relative_to(ROOT)}`, {machine.get('date')}): `jackrec record "
        "--split` at 48 kHz / period 256 on a private asynchronous dummy server without driver "
        "ports, the counter client on 2047 ports (JACK2 holds 4095 ports a server: 4096 less "
        "port 0) and jackrec on 2048, one client's limit (its last input unconnected); takes "
        "to the local disk.  Medians of the runs; *lost*: frames jackrec lost (its 2 s ring "
        "overflowed: the writer fell behind for good); *to disk*: the time from the take's "
        "first frame to its finalized sidecar over its `--duration` (above 1 the writer fell "
        "behind the stream); *CPU*: "
        "jackrec's user + system time over the run's wall time (start-up included), in cores.",
        "",
        "| channels | bits | --split | files | stream MB/s | runs | lost | xruns | to disk "
        "| CPU (cores) |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (channels, bits, split), runs in cases.items():
        done = [row for row in runs if row["status"] == 0]
        width = 4 if bits in ("float", "32") else int(bits) // 8
        stream = channels * width * 48000 / 1e6
        text.append(
            f"| {channels} | {bits} | `{split}` | {runs[0]['files']} | {stream:.0f} "
            f"| {len(done)}/{len(runs)} "
            f"| {fmt(median(done, lambda row: row['frames_lost']))} "
            f"| {fmt(median(done, lambda row: row['xruns']))} "
            f"| {fmt(median(runs, to_disk), 2)} "
            f"| {fmt(median(runs, lambda row: row['cpu'] / row['wall']), 2)} |"
        )
    idle = rows["split_idle"]
    if idle:
        speed = median(idle, lambda row: row["speed"])
        xruns = median(idle, lambda row: row["xruns"])
        text += [
            "",
            f"The server with the counter client alone (no recorder): its stream ran at "
            f"{fmt(speed, 2)} times the speed of the wall clock, with {fmt(xruns)} xruns in "
            f"{idle[0]['seconds']:g} s (medians).",
        ]
    return [*text, ""]


def cpu_progress_line(result: Row) -> str:
    rate = f"{result['rate'] // 1000}k/{result['period']}"
    return (
        f"  {rate} {result['channels']:>4} ch {result['bits']:>5}  {result['recorder']:<13}"
        f"{result['cores']:.3f} cores, lost {result.get('lost_frames', '?')}, "
        f"exact {result.get('exact', '?')}, exit {result['exit_code']}"
    )


def cpu_section(profile_date: str) -> list[str]:
    """jackrec's steady-state CPU against jack_capture's (`bench.cpu`), newest results.

    `profile_date` is the main profile's: when these are newer, the section
    says its figures are the ones of jackrec as it is now.
    """
    path = newest("cpu") or newest("cpu-quick")
    if path is None:
        return []
    machine, rows = load(path)
    newer = str(machine.get("date", "")) > profile_date
    cases: dict[tuple[int, int, int, str], dict[str, list[Row]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows["cpu"]:
        key = (row["rate"], row["period"], row["channels"], row["bits"])
        cases[key][row["recorder"]].append(row)
    text = [
        "## CPU against jack_capture, side by side",
        "",
        f"`bench/cpu.py` (`{path.relative_to(ROOT)}`, {machine.get('date')}): both recorders "
        "take the counter client's ports into a WAV on the local disk, on one private dummy "
        "server, alternately (ABBA...); a run's CPU is the scheduler's run time of all its "
        "threads (`/proc/PID/task/*/schedstat`) over 10 s after a 3 s warm-up, in cores; "
        "medians of the runs, and their ratio.  *lost*: frames missing from either take "
        "against the counter (median).  jack_capture's 24-bit takes are not bit-exact (it "
        "scales by 2^23 - 1); jackrec's are."
        + (
            "  These runs are newer than the profile above: where its CPU figures differ, "
            "these are jackrec's as it is now."
            if newer
            else ""
        ),
        "",
        "| rate / period | channels | samples | runs | jackrec cores | jack_capture cores "
        "| jackrec / jack_capture | jackrec lost | jack_capture lost |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (rate, period, channels, bits), by in cases.items():
        ours = median(by["jackrec"], lambda row: row["cores"])
        theirs = median(by["jack_capture"], lambda row: row["cores"])
        ratio = None if not ours or not theirs else ours / theirs
        text.append(
            f"| {rate // 1000} kHz / {period} | {channels} | "
            f"{'float' if bits == 'float' else bits + '-bit'} | {len(by['jackrec'])} "
            f"| {fmt(ours, 3)} | {fmt(theirs, 3)} | {fmt(ratio, 2)} "
            f"| {fmt(median(by['jackrec'], lambda row: row.get('lost_frames')))} "
            f"| {fmt(median(by['jack_capture'], lambda row: row.get('lost_frames')))} |"
        )
    return [*text, "", *cpu_profile_section()]


def durability_progress_line(result: Row) -> str:
    sync = result.get("sync") or {}
    return (
        f"  {result['channels']:>4} ch {result['bits']:>5}  sync {result['variant']:<4}"
        f"{result['cores']:.3f} cores, lost {result.get('lost_frames', '?')}, "
        f"syncs {sync.get('syncs', 0)}, slowest {sync.get('longest_seconds', 0)} s"
    )


def durability_section() -> list[str]:
    """The durability interval's cost (`bench.durability`), newest results."""
    path = newest("durability")
    if path is None:
        return []
    machine, rows = load(path)
    cases: dict[tuple[int, str], dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for row in rows["durability"]:
        cases[(row["channels"], row["bits"])][row["variant"]].append(row)
    text = [
        "## The durability interval's cost",
        "",
        f"`bench/durability.py` (`{path.relative_to(ROOT)}`, {machine.get('date')}): "
        "`jackrec record` at 48 kHz / 256 into a WAV on the local disk, without `--sync` and "
        "with `--sync 1`, alternately on one dummy server; CPU as above (cores over 10 s after "
        "a 3 s warm-up), medians; *slowest sync*: the longest `fdatasync` of the take's file "
        "in any run (from its sidecar), which the 10 s ring must cover; *lost*: frames "
        "missing against the counter (median).",
        "",
        "| channels | samples | runs | cores, off | cores, sync 1 s | ratio | syncs per run "
        "| slowest sync | lost, off | lost, sync |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (channels, bits), by in cases.items():
        off = median(by["off"], lambda row: row["cores"])
        synced = median(by["1 s"], lambda row: row["cores"])
        slowest = max((row["sync"]["longest_seconds"] for row in by["1 s"] if row.get("sync")),
                      default=None)  # fmt: skip
        text.append(
            f"| {channels} | {'float' if bits == 'float' else bits + '-bit'} | {len(by['off'])} "
            f"| {fmt(off, 3)} | {fmt(synced, 3)} "
            f"| {fmt(None if not off or synced is None else synced / off, 2)} "
            f"| {fmt(median(by['1 s'], lambda row: (row.get('sync') or {}).get('syncs')))} "
            f"| {fmt(slowest, 3)} s "
            f"| {fmt(median(by['off'], lambda row: row.get('lost_frames')))} "
            f"| {fmt(median(by['1 s'], lambda row: row.get('lost_frames')))} |"
        )
    return [*text, ""]


def cpu_profile_section() -> list[str]:
    """Where each recorder's CPU goes (`bench.cpu.profile`), newest results."""
    path = newest("cpuprofile")
    if path is None:
        return []
    _machine, rows = load(path)
    profiles = rows["cpu_profile"]
    if not profiles:
        return []
    first = profiles[0]
    names = list(first["shares"])
    text = [
        f"Where the CPU goes ({first['channels']} channels, {first['bits']}, "
        f"{first['rate'] // 1000} kHz / {first['period']}; `python -m bench.cpu --profile`, "
        f"`{path.relative_to(ROOT)}`): perf's cpu-clock samples of each process over 10 s, "
        "by shared object and symbol, as shares of its CPU; *user*: its user time's share "
        "(`/proc/PID/stat`).",
        "",
        "| recorder | user | " + " | ".join(names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for row in profiles:
        shares = " | ".join(f"{100 * row['shares'][name]:.0f} %" for name in names)
        text.append(f"| {row['recorder']} | {100 * row['user_share']:.0f} % | {shares} |")
    return [*text, ""]


def console_progress_line(result: Row) -> str:
    return (
        f"  console {result['channels']:>3} meters {result['columns']}x{result['lines']}: "
        f"metering {result.get('metering', 0):.3f} cores, recording "
        f"{result.get('recording', 0):.3f}, Textual's floor {result.get('floor', 0):.3f}, "
        f"lost {result.get('lost_frames', '?')}"
    )


#: The console's goal (#11): at most this share of a core for this many live meters.
CONSOLE_GOALS = {16: 0.10, 64: 0.20}


def console_section() -> list[str]:
    """The console's CPU with every meter moving (`bench.console`), newest results."""
    path = newest("console")
    if path is None:
        return []
    machine, rows = load(path)
    cases: dict[tuple[int, int, int], list[Row]] = defaultdict(list)
    for row in rows["console"]:
        cases[(row["channels"], row["columns"], row["lines"])].append(row)
    text = [
        "## The console",
        "",
        f"`bench/console.py` (`{path.relative_to(ROOT)}`, {machine.get('date')}): `jackrec tui` "
        "in a tmux pane of each size, metering a sawtooth per channel (every meter moves every "
        "frame, as with music) on a private dummy server at 48 kHz / 256, then recording it; "
        "CPU is the scheduler's run time of all the console's threads (meters, UI, disk "
        "writer) over the window after a warm-up, in % of one core, medians of the runs.  "
        "*Textual's floor*: a one-widget Textual app in the same pane redrawing as many "
        "lines, all changing every frame at the console's 30 Hz, from runs made in advance "
        "(new strips each frame, as the console's are; `bench/textual_floor.py`): what "
        "Textual and the terminal cost before jackrec draws anything.  *lost*: frames the "
        "take's sidecar counts lost.",
        "",
        "| meters | terminal | meter lines | console, metering | console, recording "
        "| Textual's floor | jackrec's own (metering - floor) | goal | lost |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (channels, columns, lines), group in sorted(cases.items()):
        metering = median(group, lambda row: row["metering"])
        floor = median(group, lambda row: row["floor"])
        own = None if metering is None or floor is None else metering - floor
        goal = CONSOLE_GOALS.get(channels)
        text.append(
            f"| {channels} | {columns}x{lines} | {group[0]['meter_rows']} "
            f"| {fmt(percent(metering), 1)} % "
            f"| {fmt(percent(median(group, lambda row: row['recording'])), 1)} % "
            f"| {fmt(percent(floor), 1)} % | {fmt(percent(own), 1)} % "
            f"| {'' if goal is None else f'<= {100 * goal:.0f} %'} "
            f"| {fmt(median(group, lambda row: row.get('lost_frames')))} |"
        )
    return [*text, "", *console_profile_section(rows["console_profile"])]


def console_profile_section(profiles: list[Row]) -> list[str]:
    """Where the console's CPU goes (`bench.console.profile`), by piece."""
    if not profiles:
        return []
    by_channels = sorted(profiles, key=lambda row: row["channels"])
    names = list(by_channels[0]["shares"])
    drawing, update, gc = "drawing meter lines", "Textual's screen update", "garbage collection"
    text = [
        f"Where it goes, metering in {by_channels[0]['columns']}x{by_channels[0]['lines']} "
        "(`bench/console_profile.py`: wall time on the UI thread in each piece over 10 s, "
        "as % of one core; Textual's screen update is shown without the meters' drawing, "
        "which runs inside it; garbage collection is also counted in the piece that set it "
        "off; *the rest*: the process's CPU less the pieces: the event loop, Textual's timers "
        "and messages, the terminal writer, JACK's thread):",
        "",
        "| piece | " + " | ".join(f"{row['channels']} meters" for row in by_channels) + " |",
        "|---|" + "---:|" * len(by_channels),
    ]
    for name in names:
        label = f"{update}, less the drawing" if name == update else name
        cells = []
        for row in by_channels:
            share = row["shares"][name] - (row["shares"][drawing] if name == update else 0.0)
            cells.append(f"{100 * share:.1f} %")
        text.append(f"| {label} | " + " | ".join(cells) + " |")
    rest = [
        row["process"] - sum(share for name, share in row["shares"].items()
                             if name not in (drawing, gc))
        for row in by_channels
    ]  # fmt: skip
    text.append("| the rest | " + " | ".join(f"{100 * r:.1f} %" for r in rest) + " |")
    text.append(
        "| **the process** | "
        + " | ".join(f"**{100 * row['process']:.1f} %**" for row in by_channels)
        + " |"
    )
    return [*text, ""]
