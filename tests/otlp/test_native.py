"""The mypyc-compiled wire reader (scripts/build_native.py) must decode exactly like the pure-Python one.

Every other decoder test runs through `looptrace.otlp.decode`, i.e. through the compiled module
whenever it is built; these tests hold the pure-Python module to the same results on real
producer fixtures and on thousands of corrupted bodies, and check that the build is in use.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from looptrace import _native
from looptrace.otlp import _protobuf, decode
from looptrace.otlp._types import OTLPDecodeError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "producers"
PURE = _native.load_pure("looptrace.otlp._protobuf")
BUILT = _native.is_compiled(_protobuf)


def _outcome(module: ModuleType, function: str, body: bytes) -> tuple[str, Any]:
    try:
        result = getattr(module, function)(body)
    except OTLPDecodeError as exc:
        return "error", str(exc)
    spans_or_logs = getattr(result, "spans", None)
    if spans_or_logs is None:
        spans_or_logs = result.logs
    return "ok", (spans_or_logs, result.__dict__ if hasattr(result, "__dict__") else repr(result))


def _bodies() -> list[tuple[str, bytes]]:
    bodies = [(path.name, path.read_bytes()) for path in sorted(FIXTURES.glob("*.pb"))]
    assert bodies, "producer fixtures are missing"
    return bodies


def _mutations(body: bytes, rng: random.Random, count: int) -> list[bytes]:
    out: list[bytes] = []
    for _ in range(count):
        data = bytearray(body)
        match rng.randrange(3):
            case 0:  # truncate
                data = data[: rng.randrange(len(data))]
            case 1:  # flip bytes
                for _ in range(rng.randint(1, 4)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
            case _:  # splice in a run of 0xFF (huge varints, bad UTF-8)
                at = rng.randrange(len(data))
                data[at:at] = b"\xff" * rng.randint(1, 9)
        out.append(bytes(data))
    return out


@pytest.mark.skipif(not BUILT, reason="the compiled decoder is not built here")
def test_compiled_and_pure_decoders_agree_on_real_producers_and_corrupted_bodies() -> None:
    rng = random.Random(20261125)
    compared = 0
    for name, body in _bodies():
        function = "decode_logs_protobuf" if ".logs." in name else "decode_traces_protobuf"
        for candidate in [body, *_mutations(body, rng, 150)]:
            assert _outcome(_protobuf, function, candidate) == _outcome(PURE, function, candidate), name
            compared += 1
    assert compared > 1000


def test_the_compiled_decoder_is_built_current_and_in_use_unless_opted_out() -> None:
    # `make install` (so `make test` and CI) builds it whenever _protobuf.py changes; the tests must
    # exercise the code the server runs. LOOPTRACE_NATIVE=0 opts out and runs pure Python.
    if os.environ.get("LOOPTRACE_NATIVE") == "0":
        assert not BUILT
        return
    assert BUILT, "run `make install` to build the compiled ingest modules"
    assert decode.decode_traces_protobuf is _protobuf.decode_traces_protobuf
