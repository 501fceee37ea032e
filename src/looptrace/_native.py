"""The ingest hot path compiled by mypyc (scripts/build_native.py), used only when built from the current source.

    looptrace/model.py                     the span model: native classes, direct field access
    looptrace/otlp/_protobuf.py            the OTLP wire reader (~3x faster than pure Python)
    looptrace/ingest/normalize.py          the span normalizer
    looptrace/storage/duckdb/_arrow.py     spans → Arrow columns
    looptrace/storage/duckdb/_summary.py   per-trace rollups
    looptrace/storage/duckdb/_prepared.py  a batch prepared for the writer

These modules are compiled together, as one group: compiled code then builds a `Span` with a native
constructor and reads its fields directly, where a pure-Python `Span` costs an interpreted
`__init__` and an attribute lookup per field. The extension modules go to `looptrace/_compiled/`
(not beside the sources), with the SHA-256 of the group's sources. `install()` (run by
`looptrace/__init__.py`) puts a finder first on `sys.meta_path` that serves the compiled modules
under their own names, but only while that digest matches the sources as they are now: all of
them or none. After an edit, a stale build is ignored (with a warning) rather than silently run,
and the pure-Python modules run until the next `make install`.

`import looptrace` runs `install()`, so the SDK pays for this module: it imports only `os` and
`sys` up front (the digest, the import machinery and logging load when a group module is first
imported, i.e. in the server), and paths are strings.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from pathlib import Path
    from types import ModuleType

GROUP: tuple[str, ...] = (
    "looptrace.model",
    "looptrace.otlp._protobuf",
    "looptrace.ingest.normalize",
    "looptrace.storage.duckdb._arrow",
    "looptrace.storage.duckdb._summary",
    "looptrace.storage.duckdb._prepared",
)
"""The modules compiled together, by full name."""
GROUP_LIBRARY = "looptrace_native__mypyc"
"""The shared library mypyc builds for the group (`mypycify(group_name="looptrace_native")`)."""

SOURCE_ROOT: str = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""The directory holding the `looptrace` package (src/)."""
COMPILED_DIR: str = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_compiled")
"""Where scripts/build_native.py installs the group's extension modules."""
STAMP: str = os.path.join(COMPILED_DIR, "SOURCES.sha256")
"""The digest of the sources the installed build was compiled from."""


def source_path(module: str) -> Path:
    """The .py file of a module of the group."""
    from pathlib import Path

    return Path(SOURCE_ROOT, *module.split(".")).with_suffix(".py")


def sources_sha256(modules: Sequence[str] = GROUP) -> str:
    """One SHA-256 over the group's sources, in order: what a build records in `STAMP`."""
    import hashlib

    digest = hashlib.sha256()
    for module in modules:
        digest.update(module.encode() + b"\0" + source_path(module).read_bytes() + b"\0")
    return digest.hexdigest()


def extension_path(module: str) -> Path | None:
    """The installed extension module for `module` (a group member or the group library), if any."""
    import importlib.machinery
    from pathlib import Path

    base = Path(COMPILED_DIR, *module.split("."))
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = base.with_name(base.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def build_is_current() -> bool:
    """Whether the installed build may be used: its recorded digest matches the sources, and every module is there.

    All or none: a compiled module of the group refuses the pure-Python classes of another.
    """
    try:
        with open(STAMP, encoding="ascii") as stamp:
            if stamp.read().strip() != sources_sha256():
                return False
    except OSError:
        return False
    return all(extension_path(name) is not None for name in (*GROUP, GROUP_LIBRARY))


def is_compiled(module: ModuleType) -> bool:
    """Whether `module` was loaded from the compiled build."""
    import importlib.machinery

    spec = module.__spec__
    return spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)


class _CompiledFinder:
    """A `sys.meta_path` finder serving the group's compiled modules while the build matches the sources."""

    def __init__(self) -> None:
        self._names = frozenset((*GROUP, GROUP_LIBRARY))
        self._current: bool | None = None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """The compiled module's spec for a group member while the build is current; None otherwise."""
        if fullname not in self._names or not self._build_is_current():
            return None
        extension = extension_path(fullname)
        if extension is None:
            return None
        import importlib.util

        return importlib.util.spec_from_file_location(fullname, extension)

    def _build_is_current(self) -> bool:
        if self._current is None:
            self._current = build_is_current()
            if not self._current:
                import logging

                logging.getLogger(__name__).warning(
                    "the compiled ingest modules are older than their sources or incomplete; "
                    "using pure Python (make install)"
                )
        return self._current


def install() -> None:
    """Put the finder for the compiled group first on `sys.meta_path` (once; nothing when no build is installed)."""
    if not os.path.isfile(STAMP) or any(isinstance(finder, _CompiledFinder) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, _CompiledFinder())


def load_pure(module: str) -> ModuleType:
    """The pure-Python source of a group member, loaded apart as `<module>__pure`: for tests that hold the two alike."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"{module}__pure", source_path(module))
    assert spec is not None and spec.loader is not None  # a .py file always has a source loader
    pure = sys.modules.get(spec.name)
    if pure is None:
        pure = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = pure  # dataclasses look their module up while the class is made
        spec.loader.exec_module(pure)
    return pure
