"""valgrind memcheck of the jackrec._core extension inside Python.

Runs exercise_extension.py under memcheck and fails on any error or
definite leak whose stack passes through the extension (``jr_*`` functions
or the ``_core`` shared object).  CPython and the dynamic loader have known
memcheck false positives of their own; those are counted, not judged.

usage: python cext/tests/memcheck.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent


#: cffi's module set-up in the extension: allocations that live as long as
#: the interpreter (CPython never frees its modules at exit).
MODULE_INIT = {"_cffi_init", "PyInit__core"}


def is_ours(error: ET.Element) -> bool:
    for frame in error.iter("frame"):
        function = frame.findtext("fn") or ""
        obj = frame.findtext("obj") or ""
        if function.startswith("jr_"):
            return True
        if "jackrec/_core" in obj and function not in MODULE_INIT:
            return True
    return False


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "memcheck.xml"
        command = [
            "valgrind",
            "--tool=memcheck",
            "--xml=yes",
            f"--xml-file={report}",
            "--leak-check=full",
            "--show-leak-kinds=definite",
            sys.executable,
            str(HERE / "exercise_extension.py"),
        ]
        env = dict(os.environ, PYTHONMALLOC="malloc")
        run = subprocess.run(command, env=env, timeout=900, check=False)
        errors = list(ET.parse(report).getroot().iter("error"))
    ours = [error for error in errors if is_ours(error)]
    for error in ours:
        print(f"memcheck: {error.findtext('kind')}: {error.findtext('what') or ''}")
        for frame in list(error.iter("frame"))[:8]:
            print(f"    {frame.findtext('fn')} ({frame.findtext('obj')})")
    print(
        f"memcheck: {len(ours)} error(s) in jackrec's code, "
        f"{len(errors) - len(ours)} elsewhere (CPython, ld.so: not ours)"
    )
    return 1 if ours or run.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
