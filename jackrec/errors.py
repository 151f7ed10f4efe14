"""The one exception type the command line turns into a one-line message."""

import unicodedata


def one_line(text: str) -> str:
    """`text` with its control characters escaped as Python writes them
    (``\\n``, ``\\r``, ``\\x1b``): a name or value a user typed can neither
    break a message into lines nor send a terminal escape sequence."""
    return "".join(repr(c)[1:-1] if unicodedata.category(c) == "Cc" else c for c in text)


class JackrecError(Exception):
    """An error the user can act on; its message is a single line.

    The command line prints ``jackrec: error: <message>`` and exits with
    `exit_code`, without a traceback.
    """

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(one_line(message))
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(JackrecError):
    """A bad command-line option or option combination."""

    exit_code = 2
