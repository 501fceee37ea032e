"""The compiled ingest group (`looptrace._native`): used whole while current, never when stale.

The group's modules are compiled together, so they must be loaded together: a compiled normalizer
reads a compiled `Span`'s fields directly and refuses a pure-Python one. These tests check that the
finder serves the build only while its recorded digest matches every source, and that make rebuilds
it when any of them changes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from looptrace import _native

ROOT = Path(__file__).resolve().parents[1]


def test_make_rebuilds_the_group_when_any_of_its_sources_changes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    listed = re.search(r"^NATIVE_SOURCES := (.*?)(?<!\\)\n", makefile, re.MULTILINE | re.DOTALL)
    assert listed is not None
    sources = set(listed.group(1).replace("\\\n", " ").split())
    assert sources == {str(_native.source_path(m).relative_to(ROOT)) for m in _native.GROUP}


def test_the_whole_group_is_compiled_and_in_use_unless_opted_out() -> None:
    import importlib

    modules = [importlib.import_module(name) for name in _native.GROUP]
    if os.environ.get("LOOPTRACE_NATIVE") == "0":
        assert not any(_native.is_compiled(m) for m in modules)
        return
    assert all(_native.is_compiled(m) for m in modules), "run `make install` to build the compiled ingest modules"


def test_a_build_whose_digest_no_longer_matches_the_sources_is_not_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    stamp = tmp_path / "SOURCES.sha256"
    stamp.write_text("0" * 64 + "\n")  # what a build of older sources recorded
    monkeypatch.setattr(_native, "STAMP", str(stamp))
    finder = _native._CompiledFinder()
    assert all(finder.find_spec(name, None) is None for name in (*_native.GROUP, _native.GROUP_LIBRARY))
    assert "older than their sources" in caplog.text
    stamp.write_text(_native.sources_sha256() + "\n")
    current = _native._CompiledFinder()
    assert current.find_spec("looptrace.semconv", None) is None  # not in the group: never served
    if _native.extension_path("looptrace.model") is not None:
        spec = current.find_spec("looptrace.model", None)
        assert spec is not None and spec.origin is not None and "_compiled" in spec.origin


def test_the_digest_covers_every_source_of_the_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "src"
    for name in _native.GROUP:
        target = copy.joinpath(*name.split(".")).with_suffix(".py")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_native.source_path(name).read_bytes())
    monkeypatch.setattr(_native, "SOURCE_ROOT", str(copy))
    before = _native.sources_sha256()
    for name in _native.GROUP:
        path = _native.source_path(name)
        original = path.read_bytes()
        path.write_bytes(original + b"\n# edited\n")
        assert _native.sources_sha256() != before, name
        path.write_bytes(original)
    assert _native.sources_sha256() == before


def test_a_build_missing_any_of_its_modules_is_not_served_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A current digest but one extension module gone: serving the rest would pair a compiled
    # normalizer with a pure-Python Span, which it refuses. All or none.
    if _native.extension_path("looptrace.model") is None:
        pytest.skip("no compiled build here to copy")
    import shutil

    compiled = tmp_path / "_compiled"
    shutil.copytree(_native.COMPILED_DIR, compiled)
    monkeypatch.setattr(_native, "COMPILED_DIR", str(compiled))
    monkeypatch.setattr(_native, "STAMP", str(compiled / "SOURCES.sha256"))
    assert _native.build_is_current()
    missing = _native.extension_path("looptrace.ingest.normalize")
    assert missing is not None
    missing.unlink()
    assert not _native.build_is_current()
    finder = _native._CompiledFinder()
    assert all(finder.find_spec(name, None) is None for name in (*_native.GROUP, _native.GROUP_LIBRARY))
