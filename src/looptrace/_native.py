"""Modules compiled by mypyc (scripts/build_native.py), used only when built from the current source.

    otlp/_protobuf.py     ─► otlp/_protobuf_c      the OTLP wire reader (~3x faster)
    ingest/normalize.py   ─► ingest/_normalize_c   the span normalizer (~1.35x faster)

The build copies each source to a `_c` twin with the SHA-256 of its text appended and compiles
the twin. `compiled_twin` imports the twin and compares that digest with the source as it is
now: after an edit, a stale build is ignored (with a warning) rather than silently run, and the
pure-Python module runs until the next `make install`.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from pathlib import Path
from types import ModuleType

_log = logging.getLogger(__name__)


def compiled_twin(source: ModuleType, twin_name: str) -> ModuleType | None:
    """The compiled twin `twin_name` of `source` if it is built from `source`'s current text, else None.

    Args:
        source: The pure-Python module (its file is hashed).
        twin_name: The compiled module's full name, e.g. "looptrace.otlp._protobuf_c".
    """
    try:
        compiled = importlib.import_module(twin_name)
    except ImportError:
        return None
    assert source.__file__ is not None  # a module loaded from a file
    digest = hashlib.sha256(Path(source.__file__).read_bytes()).hexdigest()
    if getattr(compiled, "SOURCE_SHA256", None) != digest:
        _log.warning("the compiled %s is older than %s; using pure Python (make install)", twin_name, source.__name__)
        return None
    return compiled
