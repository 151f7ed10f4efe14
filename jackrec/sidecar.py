"""The JSON sidecar written beside each take (``take.wav`` -> ``take.wav.json``).

The sidecar is as careful as the sound file:

- it is created exclusively with its take, so an existing file of that name
  (or a symlink, even a dangling one) is never overwritten or followed;
- every later version replaces it atomically: it is written to a temporary
  file of a short, unique name (created exclusively, so a symlink planted
  there is never followed) and renamed over the sidecar, so the sidecar
  always parses, even after a crash; ``"complete": false`` marks a take
  that was never finalized;
- when the disk is full, a temporary file cannot be written, and the
  sidecar is rewritten in place instead, inside the blocks it already has
  (a few KiB), which a full file system still allows.  Only if that fails
  too is the update lost, and the error says so;
- written `durable`, each version is synced before it is renamed and its
  directory after (`jackrec.durability`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import Any

from jackrec.durability import sync_directory
from jackrec.errors import JackrecError

SUFFIX = ".json"
#: Temporary files: short, so a take name as long as the file system
#: allows still has room for its sidecar's temporary file.
TEMPORARY_PREFIX = ".jackrec-"
#: Errors after which the in-place rewrite is tried.
NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class SidecarError(JackrecError):
    """The sidecar could not be written; the take itself goes on."""


def sidecar_path(take: Path) -> Path:
    return take.with_name(take.name + SUFFIX)


def _encode(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2) + "\n").encode()


def create_sidecar(take: Path, data: dict[str, Any]) -> None:
    """Create the sidecar of `take`, which must not exist in any form.

    Written whole under a temporary name, then linked to its own (link()
    never replaces anything, a dangling symlink included), so a reader never
    finds it empty or half written.

    Raises
    ------
    JackrecError
        When the name is taken (by anything, a symlink included) or the
        file cannot be created.
    """
    path = sidecar_path(take)
    temporary = path.with_name(f"{TEMPORARY_PREFIX}{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            _write_all(fd, _encode(data))
        finally:
            os.close(fd)
        os.link(temporary, path, follow_symlinks=False)
    except FileExistsError:
        if not os.path.lexists(path):  # the random temporary name was taken: unlikely
            raise JackrecError(f"cannot create {path}: a temporary name was taken") from None
        raise JackrecError(f"{path} exists; jackrec never overwrites a sidecar") from None
    except OSError as error:
        raise JackrecError(f"cannot create {path}: {error.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def write_sidecar(take: Path, data: dict[str, Any], durable: bool = False) -> None:
    """Replace the sidecar of `take` with `data`, atomically when it can;
    `durable`: on the disk when this returns, not only in the page cache.

    Raises
    ------
    SidecarError
        When neither a new version nor an in-place rewrite could be written;
        the previous version is then left as it was.
    """
    path = sidecar_path(take)
    content = _encode(data)
    try:
        _replace(path, content, durable)
    except OSError as error:
        if error.errno not in NO_SPACE:
            raise SidecarError(f"cannot update {path}: {error.strerror}") from None
        try:
            _rewrite_in_place(path, content, durable)
        except OSError as second:
            raise SidecarError(f"cannot update {path}: {second.strerror}") from None


def _replace(path: Path, content: bytes, durable: bool) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY_PREFIX, suffix=".tmp")
    try:
        _write_all(fd, content)
        # the mode the sidecar was created with (0644 less the umask), not
        # mkstemp's 0600 (which stays if the sidecar was deleted meanwhile)
        with contextlib.suppress(FileNotFoundError):
            os.fchmod(fd, stat.S_IMODE(os.stat(path).st_mode))
        if durable:  # the content before the name: a rename can reach the disk first
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(temporary)
        raise
    os.close(fd)
    try:
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    if durable:
        sync_directory(path.parent)


def _rewrite_in_place(path: Path, content: bytes, durable: bool) -> None:
    """Overwrite the sidecar's own blocks (no new space needed, or none given).

    Refused when the new text would not fit in the blocks the file has, so a
    half-written sidecar never replaces a whole one.
    """
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    try:
        allocated = os.fstat(fd).st_blocks * 512
        if len(content) > allocated:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        os.pwrite(fd, content, 0)
        os.ftruncate(fd, len(content))
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, content: bytes) -> None:
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view) :]


def read_sidecar(take: Path) -> dict[str, Any]:
    with open(sidecar_path(take), encoding="utf-8") as file:
        data: dict[str, Any] = json.load(file)
    return data


def remove_sidecar(take: Path) -> None:
    """Remove the sidecar of a take that never began."""
    with contextlib.suppress(FileNotFoundError):
        sidecar_path(take).unlink()
