"""Compile the ingest hot path with mypyc, as one group (see `looptrace._native`).

    .venv/bin/python scripts/build_native.py          # `make install` runs it

The modules in `looptrace._native.GROUP` (the span model, the OTLP wire reader, the span normalizer
and the Arrow column builder) are compiled together by `mypyc.build.mypycify` in `build/native/`, and
their extension modules are copied to `src/looptrace/_compiled/` with the SHA-256 of the sources they
came from. At import, `looptrace._native`'s finder serves them under their own names only while that
digest matches the current sources: an edited source is never shadowed by a stale build, it just runs
pure Python until the next `make install`. A build already made from the current sources is kept.

Exits 0 with a warning when mypyc or a C compiler is missing: the server then runs pure Python
(decode about 9 µs per span instead of 3), everything else is the same. Set LOOPTRACE_NATIVE=0 to skip
the build.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from looptrace import _native  # noqa: E402

BUILD = ROOT / "build" / "native"
COMPILED_DIR = Path(_native.COMPILED_DIR)
STAMP = Path(_native.STAMP)

_SETUP = """
from mypyc.build import mypycify
from setuptools import setup

setup(
    name="looptrace-native",
    ext_modules=mypycify({paths!r}, group_name="looptrace_native", opt_level="3"),
    script_args=["build_ext", "--build-lib", {lib!r}, "--build-temp", {temp!r}],
)
"""


def build() -> None:
    """Compile the group and install it, unless the installed build is current; on failure, say why."""
    if _native.build_is_current():
        STAMP.touch()  # make's target is older than a source, not stale
        return
    sha = _native.sources_sha256()
    shutil.rmtree(BUILD, ignore_errors=True)
    BUILD.mkdir(parents=True)
    lib = BUILD / "lib"
    paths = [str(_native.source_path(m)) for m in _native.GROUP]
    options = ["--ignore-missing-imports"]  # pyarrow has no type information: mypyc treats it as Any
    script = _SETUP.format(paths=[*options, *paths], lib=str(lib), temp=str(BUILD / "temp"))
    print(f"build_native: compiling {len(paths)} modules with mypyc (about a minute) ...", flush=True)
    started = time.monotonic()
    env = dict(os.environ, MYPYPATH=str(_native.SOURCE_ROOT))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BUILD, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        print(result.stdout[-4000:], result.stderr[-4000:], sep="\n", file=sys.stderr)
        print("build_native: mypyc failed (above); the ingest path stays pure Python", file=sys.stderr)
        return
    built = sorted(p for p in lib.rglob("*") if p.is_file() and p.suffix in (".so", ".pyd"))
    if not built:
        print("build_native: mypyc produced no extension module; the ingest path stays pure Python", file=sys.stderr)
        return
    shutil.rmtree(COMPILED_DIR, ignore_errors=True)
    for path in built:
        target = COMPILED_DIR / path.relative_to(lib)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    STAMP.write_text(sha + "\n")
    print(f"build_native: done in {time.monotonic() - started:.0f} s ({len(built)} extension modules)")


def main() -> int:
    """Build the group unless its installed build is current; always 0 (a failed build says why, pure Python runs)."""
    if os.environ.get("LOOPTRACE_NATIVE", "1") == "0":
        print("build_native: LOOPTRACE_NATIVE=0, keeping the ingest path pure Python")
        return 0
    if importlib.util.find_spec("mypyc") is None:
        print("build_native: mypyc is not installed (pip install mypy); the ingest path stays pure Python")
        return 0
    build()
    return 0


if __name__ == "__main__":
    sys.exit(main())
