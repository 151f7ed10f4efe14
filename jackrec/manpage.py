"""jackrec's manual page, written from its command line: ``docs/jackrec.1``.

``make man`` writes it (``python -m jackrec.manpage docs/jackrec.1``); a
test keeps the file equal to what the parser gives, so the page says what
``--help`` says.  The wheel installs it as ``share/man/man1/jackrec.1``,
where ``man jackrec`` finds it beside the ``jackrec`` it installed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from jackrec import __version__
from jackrec.cli import build_parser

#: What the page adds to the parser's own text.
SEE_ALSO = r"""\fBjackd\fR(1), \fBjack_capture\fR(1), \fBqjackctl\fR(1);
README.md, docs/service.md and docs/reliability.md in jackrec's sources."""
FILES = r"""\fI~/.config/jackrec/config.toml\fR
the settings (\fB\-\-config\fR names another); every key is in README.md."""


def escape(text: str) -> str:
    """Text as roff prints it: backslashes and hyphens kept, no line read as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line[:1] in ".'" else line for line in text.splitlines())


def option_label(action: argparse.Action) -> str:
    """The option and its value in roff (bold name, italic value); an argument's name."""
    if not action.option_strings:
        return f"\\fI{escape(str(action.metavar or action.dest))}\\fR"
    names = ", ".join(f"\\fB{escape(name)}\\fR" for name in action.option_strings)
    if action.nargs == 0:
        return names
    if action.choices is not None and action.metavar is None:
        value = "{" + ",".join(str(choice) for choice in action.choices) + "}"
    else:
        value = str(action.metavar or action.dest.upper())
    return f"{names} \\fI{escape(value)}\\fR"


def options(parser: argparse.ArgumentParser) -> Iterator[str]:
    formatter = parser._get_formatter()  # its help text as --help expands it (%%, %(default)s)
    for action in parser._actions:  # argparse offers no public way to walk them
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        text = formatter._expand_help(action) if action.help else ""
        yield f".TP\n{option_label(action)}\n{escape(text)}"


def usage(parser: argparse.ArgumentParser) -> str:
    """The usage line as ``--help`` gives it, wrapped at 80 columns whatever the terminal."""
    formatter = parser.formatter_class(prog=parser.prog, width=80)  # type: ignore[call-arg]
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, "")
    return escape(formatter.format_help().strip())


def commands(parser: argparse.ArgumentParser, name: str) -> Iterator[str]:
    """A subsection for each command (and each of its own commands), in order."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for command, subparser in action.choices.items():
            title = f"{name} {command}"
            yield f'.SS "{escape(title)}"\n.nf\n{usage(subparser)}\n.fi'
            if subparser.description:
                yield f".PP\n{escape(subparser.description)}"
            yield from options(subparser)
            yield from commands(subparser, title)


def render(parser: argparse.ArgumentParser) -> str:
    """The page: name, synopsis, description, the global options, every command."""
    lines = [
        f'.TH JACKREC 1 "" "jackrec {__version__}" "User Commands"',
        ".SH NAME\njackrec \\- multichannel JACK recorder",
        f".SH SYNOPSIS\n.nf\n{usage(parser)}\n.fi",
        f".SH DESCRIPTION\n{escape(parser.description or '')}",
        ".SH OPTIONS",
        *options(parser),
        ".SH COMMANDS",
        *commands(parser, parser.prog),
        f".SH FILES\n.TP\n{FILES}",
        f".SH SEE ALSO\n{SEE_ALSO}",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    page = render(build_parser())
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(page)
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
