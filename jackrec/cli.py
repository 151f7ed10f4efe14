"""The ``jackrec`` command line.

Every failure the user can cause or fix (bad options, no server, an
unwritable path) ends in one line on stderr, ``jackrec: error: ...``, and a
non-zero exit status: 2 for bad usage, 1 for everything else.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from jackrec import config as config_module
from jackrec import connections, events, follow, signals, timemachine
from jackrec.bwf import Cue, cues_of, read_cues
from jackrec.config import HOOKS, MAX_HOLD, Config
from jackrec.control import Request, RequestError, check_argument
from jackrec.control_client import ControlClient
from jackrec.control_socket import client_socket_path
from jackrec.core.signal import KINDS as SIGNAL_KINDS
from jackrec.doctor import diagnose, report
from jackrec.errors import JackrecError, UsageError, one_line
from jackrec.follow import followed_state
from jackrec.hooks import HookRunner, check_hooks
from jackrec.jackclient import check_names as check_client_names
from jackrec.jackclient import open_client, server_label, server_reachable
from jackrec.jackserver import DummyServer
from jackrec.levels import dbfs
from jackrec.naming import RunNames, RunTakes
from jackrec.ports import list_ports
from jackrec.repair import RepairError, repair
from jackrec.rotation import Rotator
from jackrec.session import Session, SessionOptions
from jackrec.sidecar import read_sidecar, sidecar_path
from jackrec.source import SignalSource
from jackrec.split import channel_limit, check_split, groups_of, widest
from jackrec.status import CLEAR_LINE, StatusLine, Summary, format_clock, summary_text
from jackrec.take import check_names as check_take_names
from jackrec.takefile import FORMATS, FileFormat, format_name_of, resolve_format
from jackrec.timemachine import Plan
from jackrec.units import parse_duration, parse_size
from jackrec.versions import version_lines

log = logging.getLogger("jackrec")

STATUS_INTERVAL = 0.2
MAX_PREROLL = 600.0


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def parse_seconds(text: str) -> float:
    """Seconds as ``90``, ``1:30``, ``1:02:03.5`` or ``15m`` (see `jackrec.units`)."""
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_bytes(text: str) -> int:
    """A size as ``2G``, ``650M``, ``1048576`` (see `jackrec.units`)."""
    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_bits(text: str) -> str:
    value = text.lower().removeprefix("pcm_")
    if value not in ("16", "24", "32", "float"):
        raise argparse.ArgumentTypeError(f"'{text}' is not 16, 24, 32 or float")
    return value


def parse_command(text: str) -> list[str]:
    """A hook's command line, split into words as a shell would (but run without one)."""
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"'{text}': {error}") from None
    if not words:
        raise argparse.ArgumentTypeError("a hook needs a command")
    return words


def parse_quality(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number from 0 to 1")
    return value


def parse_split(text: str) -> str:
    try:
        check_split(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None


def frame_list(text: str) -> list[int]:
    """Frame counts separated by commas: ``0,256,1000``."""
    try:
        frames = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of frame counts") from None
    if any(not 0 <= n < 2**31 for n in frames):
        raise argparse.ArgumentTypeError(f"'{text}': frame counts are 0 to {2**31 - 1}")
    return frames


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="jackrec", description="Multichannel JACK recorder.")
    parser.add_argument(
        "--version",
        action=VersionAction,
        help="show jackrec's version and those of libjack, libsndfile and the JACK "
        "servers installed, then exit",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log JACK messages too")
    parser.add_argument(
        "--config", type=Path, help="settings file (default ~/.config/jackrec/config.toml)"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    # -v after the command too; SUPPRESS keeps a subcommand from resetting it
    verbose = ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log more"
    )

    record = commands.add_parser(
        "record",
        parents=[verbose],
        help="record JACK ports into a file",
        description="Record JACK ports into one take.  With --channels N, the first N "
        "ports the patterns match are connected to in_1..in_N in order; if fewer "
        "match, the other inputs stay unconnected (silent until patched).  Either "
        "way a warning says so.  With --preroll or --trigger it arms instead (a time "
        "machine): it keeps the last --preroll seconds, and a take begins at the first "
        "frame that reaches --trigger, or on SIGUSR1, with the pre-roll before it; "
        "SIGUSR2, --duration or --trigger-hold end it, and it listens again; the takes "
        "are FILE-001, FILE-002 and so on, until Ctrl-C, SIGTERM or --takes.  With "
        "rotation (--rotate, --rotate-size or the settings' rotate keys) a recording is "
        "cut into takes at sample-exact frames, named the same way (or from FILE's "
        "fields, as in --name-template).  With --transport or --freewheel it records "
        "one take per roll of JACK's transport or per freewheel run, named the same "
        "way, until Ctrl-C, SIGTERM, --duration or --takes.",
    )
    record.add_argument(
        "file",
        type=Path,
        nargs="?",
        help="the take to create (never overwritten); when a run makes several, their "
        "name pattern (see --name-template)",
    )
    add_recording_options(record)
    record.add_argument(
        "--duration",
        "-d",
        type=parse_seconds,
        help="stop after this long (exact; armed: each take)",
    )
    add_time_machine_options(record)
    add_follow_options(record)
    record.add_argument("--quiet", "-q", action="store_true", help="no status line, no summary")
    record.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")

    ports = commands.add_parser(
        "ports", parents=[verbose], help="list the JACK ports, sources first"
    )
    ports.add_argument("--server", help="JACK server name")

    doctor = commands.add_parser(
        "doctor", parents=[verbose], help="check JACK, realtime and memory locking"
    )
    doctor.add_argument("--server", help="JACK server name")

    source = commands.add_parser(
        "demo-source", parents=[verbose], help="run the built-in test-signal client"
    )
    source.add_argument("--channels", "-c", type=whole_number, default=8)
    source.add_argument("--signal", choices=list(SIGNAL_KINDS), default="sine")
    source.add_argument("--name", default="jackrec-source", help="JACK client name")
    source.add_argument("--server", help="JACK server name")
    source.add_argument(
        "--latency",
        type=frame_list,
        default=[],
        metavar="FRAMES[,FRAMES...]",
        help="the capture latency each port declares to JACK, in order (the rest: 0); "
        "for trying --align",
    )

    repair_parser = commands.add_parser(
        "repair",
        parents=[verbose],
        help="make takes that were never finalized (killed, disk full) readable",
        description="Rewrite the length fields of WAV, RF64, W64, CAF and FLAC files "
        "from the audio actually present (whole frames; a torn last FLAC frame is not "
        "counted), and mark a jackrec sidecar complete and repaired.  Nothing else is "
        "written; a take whose sidecar says it is complete, or a file whose header "
        "already matches its data, is left as it is.  One line per file; exit status 1 "
        "if any file could not be made consistent.",
    )
    repair_parser.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="takes to repair"
    )

    completion = commands.add_parser(
        "completion",
        parents=[verbose],
        help="print the shell completion script for bash or zsh",
        description="Print a completion script for jackrec's commands, options and "
        "choices.  bash: 'jackrec completion bash > "
        "~/.local/share/bash-completion/completions/jackrec'; zsh: 'jackrec completion "
        "zsh > ~/.zfunc/_jackrec' with ~/.zfunc in fpath before compinit.",
    )
    completion.add_argument("shell", choices=COMPLETION_SHELLS, help="the shell")

    markers = commands.add_parser(
        "markers",
        parents=[verbose],
        help="list a take's markers, gaps and xruns (its cue points)",
        description="Print the cue points of a WAV or RF64 file (jackrec writes its "
        "markers, overflow gaps and JACK xruns as cue points when it finalizes a take): "
        "frame, time from the start, kind and label.  A file without cue points (W64, "
        "CAF, FLAC, or a take never finalized) gives its sidecar's.",
    )
    markers.add_argument("file", type=Path, metavar="FILE", help="the take")
    markers.add_argument("--json", action="store_true", help="print them as JSON")

    tui = commands.add_parser(
        "tui",
        parents=[verbose],
        help="the recording console in the terminal",
        description="The recording console: on a JACK client of its own, or, with "
        "--attach, on a running jackrec serve, driven through its control socket (the "
        "service's settings say what it records; quitting leaves it recording).",
    )
    add_console_options(tui, default_dir=None)
    tui.add_argument(
        "--attach",
        nargs="?",
        const="",
        metavar="SOCKET",
        help="attach to the service on this control socket "
        "(default: $XDG_RUNTIME_DIR/jackrec/control.sock)",
    )

    commands.add_parser(
        "serve",
        parents=[verbose],
        help="record unattended, from the settings file, under control (a service)",
        description="Run the recorder as a service: the settings file's keys and its "
        "[service] table say what to record and how (see docs/service.md).  It waits for "
        "the JACK server, follows the sources, survives a server restart, and stops, "
        "with the take finalized, on SIGTERM or Ctrl-C; SIGHUP reads the settings again.",
    )

    run = commands.add_parser(
        "run",
        parents=[verbose],
        help="the console on JACK, or on a private demo server when none runs",
    )
    add_console_options(run, default_dir=Path("recordings"))
    add_ctl_parser(commands, verbose)
    add_connections_parser(commands, verbose)
    return parser


#: ``jackrec ctl``'s commands and what they do.
CTL_COMMANDS = {
    "status": "the service's state and figures",
    "start": "begin a take now (reaching into the pre-roll when armed)",
    "stop": "end the take",
    "rotate": "end the take and begin the next at the same frame",
    "marker": "a marker in the take",
    "pause": "leave frames out of the take until resume (the sidecar notes it)",
    "resume": "record on after pause",
    "arm": "arm the pre-roll and level trigger the settings ask for",
    "disarm": "disarm them",
    "reload": "read the settings again (applied at the next take)",
    "events": "print the service's events as they happen, until Ctrl-C",
}


def add_connections_parser(commands: Any, verbose: argparse.ArgumentParser) -> None:
    command = commands.add_parser(
        "connections",
        parents=[verbose],
        help="save a rig's JACK connections to a file, or make them again",
        description="Save the JACK graph's connections (or one client's) to a TOML file, "
        "or make the connections a file holds that are not made yet (none is undone).  "
        "A connection that cannot be made (a port that does not exist) is an error "
        "(exit status 1) once the others are made.",
    )
    server = ArgumentParser(add_help=False)
    server.add_argument("--server", help="JACK server name")
    actions = command.add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=ArgumentParser
    )
    save = actions.add_parser(
        "save", parents=[server], help="write the connections made now to FILE (replaced whole)"
    )
    save.add_argument("file", type=Path, metavar="FILE", help="the file to write")
    save.add_argument("--client", metavar="NAME", help="only the connections of NAME's ports")
    load = actions.add_parser(
        "load", parents=[server], help="make the connections FILE holds that are not made yet"
    )
    load.add_argument("file", type=Path, metavar="FILE", help="a file 'save' wrote")


def add_ctl_parser(commands: Any, verbose: argparse.ArgumentParser) -> None:
    ctl = commands.add_parser(
        "ctl",
        parents=[verbose],
        help="control a running jackrec serve through its socket",
        description="Send one command to a running jackrec serve and print its reply, "
        "or follow its events.  A refused command is an error (exit status 1).",
    )
    ctl.add_argument(
        "--socket",
        type=Path,
        metavar="PATH",
        help="the service's control socket (default: $XDG_RUNTIME_DIR/jackrec/control.sock)",
    )
    # --json before or after the command; SUPPRESS keeps the command from resetting it
    ctl.add_argument("--json", action="store_true", help="print the reply as JSON")
    json_option = ArgumentParser(add_help=False)
    json_option.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the reply as JSON (events: one object a line)",
    )
    actions = ctl.add_subparsers(
        dest="action", required=True, metavar="COMMAND", parser_class=ArgumentParser
    )
    for name, text in CTL_COMMANDS.items():
        action = actions.add_parser(name, parents=[json_option], help=text, description=text)
        if name == "start":
            action.add_argument(
                "argument",
                nargs="?",
                metavar="NAME",
                help="the take's file name in the recording directory (default: the template)",
            )
        elif name == "marker":
            action.add_argument("argument", metavar="TEXT", help="the marker's label")


def add_console_options(parser: argparse.ArgumentParser, default_dir: Path | None) -> None:
    add_recording_options(parser)
    parser.add_argument(
        "--dir", type=Path, default=default_dir, help="where takes go (default: the settings')"
    )
    parser.add_argument(
        "--preroll", type=float, metavar="SECONDS", help="pre-roll when armed (default 5)"
    )


def add_time_machine_options(parser: argparse.ArgumentParser) -> None:
    machine = parser.add_argument_group("time machine (arms instead of recording at once)")
    machine.add_argument(
        "--preroll", type=float, metavar="SECONDS", help="keep this long before every take"
    )
    machine.add_argument(
        "--trigger", type=float, metavar="DBFS", help="begin a take at the first frame this loud"
    )
    machine.add_argument(
        "--trigger-hold",
        type=parse_seconds,
        metavar="SECONDS",
        help="end a triggered take after this long below the release level "
        "(default: the settings' trigger_hold, else never)",
    )
    machine.add_argument(
        "--trigger-release",
        type=float,
        metavar="DBFS",
        help="the release level (default: the settings' trigger_release, else 6 dB below)",
    )
    machine.add_argument(
        "--takes", type=whole_number, metavar="N", help="exit after N takes (default: never)"
    )


def add_follow_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("following JACK (a take per roll, until stopped)")
    group.add_argument(
        "--transport",
        action="store_true",
        help="one take per roll of JACK's transport, from the first frame of the cycle it "
        "rolls in to that of the cycle it stops in (--duration: of the run)",
    )
    group.add_argument(
        "--freewheel",
        action="store_true",
        help="one take per freewheel run, every frame of it (JACK waits for the disk); "
        "with --transport, a take while both",
    )


def time_machine_plan(args: argparse.Namespace, config: Config) -> Plan | None:
    """What ``record`` arms (None: it records at once); checked.

    The pre-roll and the trigger level come from the command line only (the
    settings' are the console's); the hold and release level default to the
    settings'.

    Raises
    ------
    UsageError
        When a value is out of range, or an option needs one not given.
    """
    armed = args.preroll is not None or args.trigger is not None
    following = args.transport or args.freewheel
    if armed and following:
        raise UsageError("--transport and --freewheel do not arm: not with --preroll or --trigger")
    if args.takes is not None and not (armed or following):
        raise UsageError("--takes needs --preroll, --trigger, --transport or --freewheel")
    if args.takes is not None and args.takes < 1:
        raise UsageError("--takes must be at least 1")
    if args.trigger_release is not None and args.trigger is None:
        raise UsageError("--trigger-release needs --trigger")
    if args.trigger_hold is not None and args.trigger is None:
        raise UsageError("--trigger-hold needs --trigger")
    if not armed:
        return None
    preroll = args.preroll or 0.0
    if not 0 <= preroll <= MAX_PREROLL:
        raise UsageError(f"--preroll must be 0 to {MAX_PREROLL:g} seconds")
    if args.trigger is not None and not -120 <= args.trigger <= 0:
        raise UsageError("--trigger must be -120 to 0 dBFS")
    hold = args.trigger_hold if args.trigger_hold is not None else config.trigger_hold
    if hold is not None and not 0 < hold <= MAX_HOLD:
        raise UsageError(f"--trigger-hold must be above 0 and at most {MAX_HOLD:g} seconds")
    release = args.trigger_release if args.trigger_release is not None else config.trigger_release
    if release is not None and args.trigger is not None and not -130 <= release <= args.trigger:
        raise UsageError("--trigger-release must be -130 dBFS to the trigger's level")
    return Plan(
        preroll, args.trigger,
        hold if args.trigger is not None else None,
        release if args.trigger is not None else None,
        args.duration, args.takes,
    )  # fmt: skip


def add_recording_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--channels", "-c", type=whole_number, help="channels (default: the ports matched, else 2)"
    )
    parser.add_argument(
        "--port",
        "-p",
        action="append",
        default=[],
        metavar="PATTERN",
        help="source ports to record: glob, or 're:' regex (repeatable); "
        "connected in order, the first --channels of them",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="the sources may come later: a pattern that matches nothing yet is no error, "
        "and ports that appear are connected to the free inputs in order (needs --channels "
        "or the settings' channels: the take's width is fixed before its sources exist)",
    )
    parser.add_argument("--no-connect", action="store_true", help="leave patching to others")
    parser.add_argument("--name", default="jackrec", help="JACK client name")
    parser.add_argument("--server", help="JACK server name")
    parser.add_argument(
        "--format",
        "-f",
        choices=list(FORMATS),
        help="default: from the file's extension; ogg (Vorbis), opus and mp3 are lossy",
    )
    parser.add_argument(
        "--bits",
        "--subtype",
        "-b",
        type=parse_bits,
        help="16, 24, 32 or float (default); not for ogg, opus, mp3",
    )
    parser.add_argument(
        "--quality",
        type=parse_quality,
        metavar="Q",
        help="ogg, opus, mp3: 0 (smallest) to 1 (best; mp3 from 0.15); default: the codec's",
    )
    parser.add_argument(
        "--dither",
        action="store_true",
        default=None,
        help="TPDF dither (+-1 LSB) when samples are reduced to 16 bits",
    )
    parser.add_argument(
        "--buffer", type=float, metavar="SECONDS", help="ring size in seconds (default 10)"
    )
    parser.add_argument(
        "--rotate",
        type=parse_seconds,
        metavar="DURATION",
        help="cut takes this long, at a sample-exact frame (e.g. 1h, 15m; settings key 'rotate')",
    )
    parser.add_argument(
        "--rotate-size",
        type=parse_bytes,
        metavar="SIZE",
        help="cut takes before their samples pass SIZE (e.g. 2G, 650M; settings key 'rotate_size')",
    )
    parser.add_argument(
        "--rotate-at-clock",
        action="store_true",
        default=None,
        help="cut on wall-clock multiples of --rotate (on the hour for 1h), as loggers do",
    )
    parser.add_argument(
        "--name-template",
        metavar="TEMPLATE",
        help="name takes from TEMPLATE: strftime fields (%%Y-%%m-%%d_%%H%%M%%S), {n} (take "
        "number, {n:03}), {client} (JACK client name), {date}, {time}; record: a path "
        "in FILE's place; console: the settings' template",
    )
    parser.add_argument(
        "--align",
        action="store_true",
        help="line up channels of different JACK capture latencies: delay each behind "
        "the latest (as Ardour does; settings key 'align')",
    )
    for hook, when, paths in (
        ("start", "when a take begins", "the take's path"),
        ("close", "when a take is finalized", "the take's path"),
        ("rotate", "when a take ends by rotation", "the finished and the next take's paths"),
    ):
        parser.add_argument(
            f"--on-{hook}",
            type=parse_command,
            metavar="CMD",
            help=f"run CMD {when}, without a shell, with {paths} (see README: Hooks)",
        )
    parser.add_argument(
        "--hook-timeout",
        type=float,
        metavar="SECONDS",
        help="stop a hook after this long (default 60)",
    )
    parser.add_argument(
        "--sync",
        type=parse_seconds,
        metavar="DURATION",
        help="force takes onto the disk this often (fdatasync of sound, header and "
        "sidecar; e.g. 5s): a power cut loses at most that much (settings key 'sync')",
    )
    parser.add_argument(
        "--split",
        type=parse_split,
        metavar="mono|pairs|GROUPS",
        help="one file per channel, per pair, or per group of channels (1-2,3-8,9-64), "
        "named after the take and the channels; a take wider than its format holds "
        "(FLAC: 8) is split into groups of that many by itself",
    )


def record_command(args: argparse.Namespace) -> int:
    config = load_config(args)
    duration = args.duration
    if duration is not None and not 0 < duration < math.inf:
        raise UsageError("--duration must be a positive number of seconds")
    take_options(args, config)
    plan = time_machine_plan(args, config)
    rotation = config.rotation()
    following = followed_state(args.transport, args.freewheel)
    several = plan is not None or rotation is not None or following != 0
    names = RunNames.of(args.file, args.name_template, several=several)
    # The file name says what the file is; the configured format is for the
    # TUI's takes, which are named by template.
    format_name = args.format
    bits = args.bits or config.bits
    options = session_options(args, config, preroll=plan.preroll_seconds if plan else 0.0)

    def file_format(channels: int, rate: int) -> FileFormat:
        name = format_name_of(names.pattern, format_name)
        try:
            groups = groups_of(config.split, channels, channel_limit(name))
        except ValueError as error:
            raise UsageError(str(error)) from None
        chosen = resolve_format(
            names.pattern, format_name, bits, widest(groups, channels), rate, duration,
            quality=config.quality, dither=config.dither,
        )  # fmt: skip
        refuse_vain_options(args, chosen)
        return chosen

    # Everything that can be checked without JACK is checked first.
    options.validate()
    check_client_names(options.client_name, options.server)
    file_format(options.channels or 1, 48000)
    check_take_names(names.check(options.client_name))
    session = Session(options)
    with signals.taken(cues=plan is not None) as next_signal:
        session.open()
        hooks = HookRunner(lambda: config, session.announce)
        session.on_event = hooks.offer
        hooks.start()
        takes = RunTakes(
            names,
            lambda path: session.new_take(
                path, file_format(session.channels, session.sample_rate), split=config.split
            ),
            session.client.name,
        )
        try:
            if signals.stop_pending():  # while connecting: nothing was recorded
                raise JackrecError("interrupted before recording began", exit_code=130)
            status = StatusLine(enabled=not (args.quiet or args.json))
            rotator = Rotator(rotation, takes.create)
            end: list[int] = []  # the stream frame --duration ends the run at, once known

            def tick() -> None:
                rotator.step(session, end[0] if end else None)
                for source, port in session.follow_graph():
                    log.info("connected %s to %s", source, port)
                peaks = [dbfs(float(p)) for p in session.meters.poll().peaks]
                status.show(session.status(), peaks)

            if following:
                follow.run(session, following, takes, duration, args.takes, next_signal, tick, end)
            elif plan is None:
                record_one(session, takes, duration, next_signal, tick, end)
            else:
                timemachine.run(session, plan, takes, next_signal, tick)
            status.clear()
        finally:
            stats = session.close()
            hooks.close()  # the takes' on_close, at most EXIT_WAIT_SECONDS
    summaries = [Summary.of(take, session, stats) for take in takes.begun() or takes.made()[:1]]
    if args.json:
        found = [summary.to_dict() for summary in summaries]
        print(json.dumps(found if several or args.name_template else found[0], indent=2))
    elif not args.quiet:
        print("\n".join(map(summary_text, summaries)) or "no take began", flush=True)
    if session.server_gone is not None:
        held = f"{summaries[-1].path} holds {summaries[-1].frames} frames" if summaries else ""
        raise JackrecError(
            f"{server_label(args.server)} shut down ({session.server_gone})"
            + (f"; {held}" if held else "")
        )
    for summary in summaries:
        check_summary(summary)
    return 0


def record_one(
    session: Session,
    takes: RunTakes,
    duration: float | None,
    next_signal: Callable[[float], signal.Signals | None],
    tick: Callable[[], None],
    end: list[int],
) -> None:
    """Record now, until a stop signal, `duration`, or the server's end.

    A rotation cuts the recording into takes; `end` gets the stream frame
    `duration` ends it at, once the first take has begun.
    """
    first = takes.create()
    length = None if duration is None else round(duration * session.sample_rate)
    session.record(first, duration_frames=length)
    while not (next_signal(STATUS_INTERVAL) or run_over(takes) or session.shutdown.is_set()):
        if length is not None and first.start and not end:
            end.append(first.start["stream_frame"] + length)
        tick()


def run_over(takes: RunTakes) -> bool:
    """A take of the run ended other than by rotation (stopped, failed, --duration)."""
    return any(take.ended_by not in (None, events.ROTATED) for take in takes.made())


def check_summary(summary: Summary) -> None:
    """Raise the error a take ended with (one line naming the file), if any."""
    if summary.error and summary.ended_by == "write error":
        raise JackrecError(
            f"writing {summary.path} failed: {summary.error}; it holds {summary.frames} frames"
        )
    if summary.error:  # it names the file (the take's, or its sidecar)
        raise JackrecError(summary.error)


def load_config(args: argparse.Namespace) -> Config:
    return config_module.load(args.config)


def take_options(args: argparse.Namespace, config: Config) -> None:
    """The command line's quality, dither, hooks, rotation, sync and split over the
    settings'; checked.

    Raises
    ------
    UsageError
        When a setting is out of range, or a hook's command is not found.
    """
    if args.quality is not None:
        config.quality = args.quality
    if args.dither is not None:
        config.dither = args.dither
    for hook in HOOKS:
        command = getattr(args, hook)
        if command is not None:
            setattr(config, hook, command)
    if args.hook_timeout is not None:
        config.hook_timeout = args.hook_timeout
    for key in ("rotate", "rotate_size", "rotate_at_clock", "sync"):
        if getattr(args, key) is not None:
            setattr(config, key, getattr(args, key))
    if args.split is not None:
        config.split = args.split
    config.check("command line")
    check_hooks(config)


def refuse_vain_options(args: argparse.Namespace, file_format: FileFormat) -> None:
    """Refuse what the command line asks for that the take's format would ignore.

    (The settings file's bits, quality and dither are preferences for
    whichever format a take has; the command line's are meant for this one.)
    """
    if args.bits is not None and file_format.lossy:
        raise UsageError("--bits does not apply to a lossy format (ogg, opus, mp3; see --quality)")
    if args.quality is not None and not file_format.lossy:
        raise UsageError("--quality applies to the lossy formats only (ogg, opus, mp3)")
    if args.dither and not file_format.dither:
        raise UsageError("--dither applies to 16-bit takes only (--bits 16)")


def session_options(
    args: argparse.Namespace, config: Config, *, preroll: float = 0.0
) -> SessionOptions:
    """Command-line options over the config file over the defaults."""

    ports = tuple(args.port) or (() if args.no_connect else tuple(config.ports))
    channels = args.channels if args.channels is not None else config.channels
    if args.wait and channels is None:
        raise UsageError("--wait needs --channels: a take's width is fixed before its sources come")
    if args.wait and args.no_connect:
        raise UsageError("--wait and --no-connect contradict each other")
    return SessionOptions(
        channels=channels,
        ports=ports,
        connect=not args.no_connect,
        follow=args.wait,
        client_name=args.name,
        server=args.server,
        buffer_seconds=args.buffer if args.buffer is not None else config.buffer,
        preroll_seconds=preroll,
        align=args.align or config.align,
        sync_seconds=config.sync,
    )


def ports_command(args: argparse.Namespace) -> int:
    client = open_client("jackrec-ports", args.server)
    try:
        infos = list_ports(client)
    finally:
        client.close()
    width = max((len(info.name) for info in infos), default=0)
    heading = None
    for info in infos:
        title = "sources (outputs)" if info.is_source else "sinks (inputs)"
        if title != heading:
            print(f"{title}:")
            heading = title
        kind = "audio" if "audio" in info.type else "midi" if "midi" in info.type else info.type
        flags = "physical" if info.is_physical else ""
        arrow = "->" if info.is_source else "<-"
        links = f" {arrow} {', '.join(info.connections)}" if info.connections else ""
        print(f"  {info.name:<{width}}  {kind:<5} {flags:<8}{links}".rstrip())
    return 0


def doctor_command(args: argparse.Namespace) -> int:
    findings = diagnose(args.server)
    print(report(findings))
    return 1 if any(finding.fatal for finding in findings) else 0


def demo_source_command(args: argparse.Namespace) -> int:
    if not 1 <= args.channels <= 2048:
        raise UsageError("--channels must be 1 to 2048")
    with (
        signals.taken() as stop_requested,
        SignalSource(
            args.channels,
            args.signal,
            name=args.name,
            server=args.server,
            latencies=args.latency,
        ) as source,
    ):
        print(f"{args.signal} on {source.port_names[0]}..{source.port_names[-1]}; Ctrl-C stops")
        while not (stop_requested(0.5) or source.shutdown.is_set()):
            pass
    if source.server_gone is not None:
        raise JackrecError(f"{server_label(args.server)} shut down ({source.server_gone})")
    return 0


def repair_command(args: argparse.Namespace) -> int:
    """One line per file; a file that cannot be repaired does not stop the others."""
    failed = False
    for path in args.files:
        try:
            print(f"{path}: {repair(path).describe()}", flush=True)
        except JackrecError as error:
            print(f"jackrec: error: {one_line(str(path))}: {error}", file=sys.stderr, flush=True)
            failed = True
    return 1 if failed else 0


#: The shells `completion_command` writes for (shtab writes these and tcsh).
COMPLETION_SHELLS = ("bash", "zsh")


def completion_command(args: argparse.Namespace) -> int:
    """The completion script, generated from the parser itself, so it is never stale."""
    import shtab

    print(shtab.complete(build_parser(), args.shell), end="")
    return 0


class VersionAction(argparse.Action):
    """``--version``: every version a bug report needs (`jackrec.versions`)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print("\n".join(version_lines()))
        parser.exit()


def markers_command(args: argparse.Namespace) -> int:
    """The take's cue points: from the file, else from its sidecar."""
    found = take_cues(args.file)
    if found is None:
        raise JackrecError(f"{args.file}: no cue points and no sidecar")
    cues, rate, origin = found
    if args.json:
        listing = {"file": str(args.file), "from": origin, "sample_rate": rate}
        print(json.dumps({**listing, "cues": [cue.to_json(rate) for cue in cues]}, indent=2))
        return 0
    for cue in cues:
        clock = format_clock(cue.frame / rate, decimals=3)
        print(f"{cue.frame:>12}  {clock}  {cue.kind:<6}  {cue.label}")
    return 0


def take_cues(path: Path) -> tuple[list[Cue], int, str] | None:
    """The cue points of `path`, its sample rate and where they came from.

    A WAV or RF64 file's own cue points, else (another container, a take
    that was never finalized, or a split take, whose name is only its
    sidecar's) those its sidecar lists; None without either.
    """
    in_file = None
    if path.exists() or not sidecar_path(path).exists():
        try:
            in_file = read_cues(path)
        except RepairError as error:
            raise JackrecError(f"{path}: {error}") from None
    if in_file is not None and in_file[0]:
        return *in_file, "file"
    try:
        sidecar = read_sidecar(path)
    except FileNotFoundError:
        return None if in_file is None else (*in_file, "file")
    except (OSError, ValueError) as error:
        raise JackrecError(f"{path}: cannot read its sidecar: {error}") from None
    return cues_of(sidecar), int(sidecar["sample_rate"]), "sidecar"


def console_command(args: argparse.Namespace) -> int:
    """``jackrec tui``: the console on a session of its own, or attached to a service."""
    return tui_command(args) if args.attach is None else attach_command(args)


def attach_command(args: argparse.Namespace) -> int:
    """The console on a running service, until it quits or the service goes away.

    q, SIGINT, SIGTERM and SIGHUP end the console, and the service records
    on; the service going away (or the terminal) ends it with an error.
    """
    from jackrec.remote import RemoteRecorder
    from jackrec.tui.app import ConsoleApp  # imported here: Textual is slow to import

    defaults = vars(build_parser().parse_args([args.command]))
    given = [
        f"--{key.replace('_', '-')}"
        for key, value in vars(args).items()
        if key not in ("attach", "verbose", "config") and value != defaults.get(key, value)
    ]
    if given:
        raise UsageError(
            f"--attach takes none of {', '.join(given)}: the service's settings say how it records"
        )
    with signals.taken() as stop_requested:
        recorder = RemoteRecorder(Path(args.attach) if args.attach else settings_socket(args))
        try:
            app = ConsoleApp(recorder, stop_requested=lambda: bool(stop_requested(0)))
            app.run()
        finally:
            recorder.close()
    if recorder.lost:
        raise JackrecError(recorder.lost)
    if app.return_code and app.lost_terminal:
        raise JackrecError(f"the console lost its terminal: {app.lost_terminal}")
    return app.return_code or 0


def tui_command(args: argparse.Namespace) -> int:
    """The console: ends, with its take finalized, however it is ended.

    q, SIGINT, SIGTERM and SIGHUP (a closed terminal) end it cleanly;
    the JACK server shutting down or the terminal going away end it with
    an error.  A second signal while the take is being finalized waits.
    """
    from jackrec.recorder import LocalRecorder
    from jackrec.tui.app import ConsoleApp  # imported here: Textual is slow to import

    config = load_config(args)
    if args.dir is not None:
        config.directory = str(args.dir)
    config.format = args.format or config.format
    config.bits = args.bits or config.bits
    config.preroll = args.preroll if args.preroll is not None else config.preroll
    config.template = args.name_template or config.template
    take_options(args, config)
    options = session_options(args, config, preroll=config.preroll)
    # Settings that cannot record are refused now, not at the first take.
    channels = options.channels or 1
    try:
        channels = widest(groups_of(config.split, channels, channel_limit(config.format)), channels)
    except ValueError as error:
        raise UsageError(str(error)) from None
    chosen = resolve_format(
        Path("take"), config.format, config.bits, channels, 48000, None,
        quality=config.quality, dither=config.dither,
    )  # fmt: skip
    refuse_vain_options(args, chosen)
    with signals.taken() as stop_requested:
        session = Session(options).open()
        recorder = LocalRecorder(session, config)
        hooks = HookRunner(lambda: recorder.namer.config, session.announce)
        session.on_event = hooks.offer
        hooks.start()
        try:
            recorder.namer.file_format()  # at the server's sample rate (opus, mp3)
            app = ConsoleApp(recorder, args.config, stop_requested=lambda: bool(stop_requested(0)))
            app.run()
        finally:
            take = session.take
            session.close()
            hooks.close()
    held = f"; {take.path} holds {take.frames} frames" if take else ""
    if session.server_gone is not None:
        raise JackrecError(f"{server_label(args.server)} shut down ({session.server_gone}){held}")
    if app.return_code and app.lost_terminal:  # not when it went away after a quit
        raise JackrecError(f"the console lost its terminal: {app.lost_terminal}{held}")
    return app.return_code or 0


#: The status reply's fields that ``jackrec ctl`` knows, in the order it
#: prints them, with their labels; any other field follows under its own name.
STATUS_FIELDS = {
    "state": "state",
    "take": "take",
    "elapsed": "elapsed",
    "frames": "frames",
    "xruns": "xruns",
    "frames_lost": "lost frames",
    "ring_high_water": "ring high-water",
    "callback_us_max": "callback max",
    "disk_free": "disk free",
}


def settings_socket(args: argparse.Namespace) -> Path:
    """The socket of the service the settings (``--config``) describe."""
    config = load_config(args)
    return client_socket_path(config.service.socket, args.config)


def connections_command(args: argparse.Namespace) -> int:
    """Save the graph's connections, or make a saved file's again."""
    pairs = connections.read(args.file) if args.action == "load" else []  # before JACK
    client = open_client("jackrec-connections", args.server)
    try:
        if args.action == "save":
            pairs = connections.current(client, args.client)
            connections.save(args.file, pairs, server_label(args.server))
            print(f"saved {len(pairs)} connection(s) to {args.file}")
            return 0
        loaded = connections.load(client, pairs)
    finally:
        client.close()
    print(f"made {len(loaded.made)} connection(s), {len(loaded.already)} made already")
    if loaded.failed:
        (source, destination), why = loaded.failed[0]
        more = f" (and {len(loaded.failed) - 1} more)" if len(loaded.failed) > 1 else ""
        raise JackrecError(f"could not connect {source} to {destination}: {why}{more}")
    return 0


def ctl_command(args: argparse.Namespace) -> int:
    """One request to the service and its reply, or its events until Ctrl-C."""
    argument = getattr(args, "argument", None)
    command = "subscribe" if args.action == "events" else args.action
    if argument is not None:
        try:
            check_argument(command, argument)
        except RequestError as error:
            raise UsageError(str(error)) from None
    with ControlClient(args.socket or settings_socket(args)) as client:
        if command == "subscribe":
            for event in client.events():  # ends with an error when the service goes
                print(json.dumps(event) if args.json else event_text(event), flush=True)
        answer = client.request(Request(command, argument))
    if args.json:
        print(json.dumps(answer))
    elif answer.get("ok"):
        text = reply_text(answer)
        if text:
            print(text)
    if not answer.get("ok"):
        raise JackrecError(str(answer.get("error", "refused")))
    return 0


def reply_text(answer: dict[str, Any]) -> str:
    """A reply's fields as aligned lines: the known ones first, in their order."""
    fields = [key for key in STATUS_FIELDS if key in answer]
    fields += [key for key in answer if key not in STATUS_FIELDS and key != "ok"]
    labels = {key: STATUS_FIELDS.get(key, key.replace("_", " ")) for key in fields}
    width = max((len(label) for label in labels.values()), default=0)
    return "\n".join(f"{labels[key]:<{width}}  {field_text(key, answer[key])}" for key in fields)


def field_text(key: str, value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value if isinstance(value, str) else json.dumps(value)
    if key == "elapsed":
        return format_clock(value)
    if key == "ring_high_water":
        return f"{value:.1%}"
    if key == "callback_us_max":
        return f"{value:.0f} us"
    if key == "disk_free":
        return f"{value / 2**30:.1f} GiB"
    return str(value)


def event_text(event: dict[str, Any]) -> str:
    """``12:00:01 warning: <text>``: an event as ``jackrec ctl events`` prints it."""
    clock = time.strftime("%H:%M:%S", time.localtime(float(event.get("time", 0))))
    level = event.get("level")
    prefix = f"{level}: " if level in ("warning", "error") else ""
    return f"{clock} {prefix}{event.get('text', event.get('event', ''))}"


#: The demo's private servers.  Fixed names, never one per run: JACK's
#: registry holds eight servers, and a killed one's slot is freed only when
#: a server of the same name starts again.
DEMO_SERVERS = tuple(f"jackrec-demo-{n}" for n in range(1, 4))


def demo_server_name() -> str:
    """The first demo server name not in use (another console may hold one)."""
    for name in DEMO_SERVERS:
        if not server_reachable(name):
            return name
    raise JackrecError(f"all {len(DEMO_SERVERS)} demo servers are in use; quit a console first")


def run_command(args: argparse.Namespace) -> int:
    """What ``make run`` does: the console on JACK, or on a private demo server."""
    if server_reachable(args.server):
        return tui_command(args)
    print("no JACK server running: starting a private dummy server with a test signal")
    channels = args.channels or 8
    with (
        DummyServer(demo_server_name()) as server,
        signals.taken(),  # before the source's JACK threads exist, so they inherit it
        SignalSource(channels, "sine", server=server.name) as source,
    ):
        args.server, args.channels = server.name, channels
        args.port = args.port or [f"{source.client.name}:*"]
        return tui_command(args)


def serve_command(args: argparse.Namespace) -> int:
    """``jackrec serve``: the service, until SIGTERM (see `jackrec.service`)."""
    from jackrec.sdnotify import Notifier  # imported here: only the service needs them
    from jackrec.service import Service, serve

    # Every event is a line of the service's log.
    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.INFO)
    if "NSM_URL" in os.environ:
        return serve_in_session(args, os.environ["NSM_URL"])
    config = load_config(args)
    config.check(str(args.config or config_module.default_path()))
    check_hooks(config)
    service = Service(config, args.config, supervisor=Notifier())  # systemd, if it ran us
    with signals.taken() as next_signal:
        return serve(service, next_signal)


def serve_in_session(args: argparse.Namespace, url: str) -> int:
    """``jackrec serve`` opened by a session manager (see `jackrec.nsm`)."""
    from jackrec.nsm import NsmClient, session_settings
    from jackrec.sdnotify import Notifier
    from jackrec.service import Service, serve

    if args.config is not None:
        raise UsageError("under a session manager (NSM_URL) the settings are the session's")
    client = NsmClient(url)
    try:
        with signals.taken() as next_signal:
            opened = client.open(stopped=lambda: next_signal(0) is not None)
            try:
                path = session_settings(opened)
                config = config_module.load(path)
                config.check(str(path))
                check_hooks(config)
            except JackrecError as error:
                client.answer_open(str(error))
                raise
            service = Service(config, path, supervisor=Notifier())
            client.answer_open(None)
            client.start(service)
            return serve(service, next_signal)
    finally:
        client.close()


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "record": record_command,
    "ports": ports_command,
    "doctor": doctor_command,
    "demo-source": demo_source_command,
    "repair": repair_command,
    "markers": markers_command,
    "completion": completion_command,
    "tui": console_command,
    "run": run_command,
    "serve": serve_command,
    "ctl": ctl_command,
    "connections": connections_command,
}


#: Commands that take the stop signals themselves, to end cleanly.
TAKE_STOP_SIGNALS = {"record", "demo-source", "tui", "run", "serve"}


#: syslog priorities, which the journal reads from a ``<N>`` line prefix.
SYSLOG_PRIORITIES = {logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


class OneLineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """One line a message on stderr.

    ``jackrec: warning: ...`` (clearing a status line first); under systemd,
    whose journal takes stderr (``JOURNAL_STREAM``), ``<4>...``: the journal
    keeps the priority and the message, nothing else.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.journal = "JOURNAL_STREAM" in os.environ
        self.prefix = CLEAR_LINE if sys.stderr.isatty() else ""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if self.journal:
            return f"<{SYSLOG_PRIORITIES.get(record.levelno, 6)}>{message}"
        return f"{self.prefix}jackrec: {record.levelname.lower()}: {message}"


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, handlers=[OneLineHandler()], force=True)
    # Where the stop signals are delivered (see jackrec.signals), SIGTERM
    # unwinds like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        args = build_parser().parse_args(argv)
        if args.verbose:
            logging.getLogger().setLevel(logging.DEBUG)
        if args.command not in TAKE_STOP_SIGNALS:
            signals.release()
        return COMMANDS[args.command](args)
    except JackrecError as error:
        print(f"jackrec: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `jackrec ports | head`: the reader has had enough
        # Python would complain again while flushing stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
