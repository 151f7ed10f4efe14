"""A small ext4 file system on a loop device, and power cuts of it.

The file system's block device is a loop device over an image file, so
the image holds exactly what the file system has written to its device:
what it keeps in the page cache (dirty pages the kernel has not written
back yet) is not in the image.  A copy of the image taken at a moment is
therefore the disk as a power cut at that moment would leave it; mounted
(ext4 replays its journal, as after a real cut), it shows what survived.

Needs root (losetup, mount).  Every loop device and mount made here is
undone on exit, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

IMAGE_BYTES = 64 << 20
TIMEOUT = 30.0


def available() -> str | None:
    """Why loop-device file systems cannot be made here (None: they can)."""
    if os.geteuid() != 0:
        return "needs root (losetup, mount)"
    missing = [tool for tool in ("losetup", "mkfs.ext4", "mount") if shutil.which(tool) is None]
    return f"needs {', '.join(missing)}" if missing else None


def _run(*command: str) -> str:
    return subprocess.run(
        command, check=True, capture_output=True, text=True, timeout=TIMEOUT
    ).stdout.strip()


@contextlib.contextmanager
def mounted(image: Path, mountpoint: Path) -> Iterator[Path]:
    """`image` attached to a loop device and mounted at `mountpoint`."""
    mountpoint.mkdir(exist_ok=True)
    device = _run("losetup", "--find", "--show", str(image))
    try:
        # errors=remount-ro: what a file system error does (`fail`)
        _run("mount", "-t", "ext4", "-o", "errors=remount-ro", device, str(mountpoint))
        try:
            yield mountpoint
        finally:
            _run("umount", str(mountpoint))
    finally:
        _run("losetup", "--detach", device)


@contextlib.contextmanager
def ext4_disk(directory: Path) -> Iterator[Path]:
    """A fresh ext4 file system, mounted; yields its mount point (``directory/disk``).

    Its image is ``directory/disk.img`` (`cut_power` copies it).
    """
    image = directory / "disk.img"
    with open(image, "wb") as file:
        file.truncate(IMAGE_BYTES)
    _run("mkfs.ext4", "-q", "-F", str(image))
    with mounted(image, directory / "disk") as mountpoint:
        yield mountpoint


def fail(mountpoint: Path) -> None:
    """Make the file system at `mountpoint` fail as a dying disk does: ext4
    records an error and turns read-only (every write from then on: EROFS)."""
    device = Path(_run("findmnt", "-n", "-o", "SOURCE", str(mountpoint))).name
    Path(f"/sys/fs/ext4/{device}/trigger_fs_error").write_text("jackrec test\n")


def cut_power(directory: Path, name: str) -> Path:
    """The disk of `ext4_disk(directory)` as a power cut now would leave it:
    a copy of its image, ``directory/<name>.img``."""
    snapshot = directory / f"{name}.img"
    shutil.copyfile(directory / "disk.img", snapshot)
    return snapshot
