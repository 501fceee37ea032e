from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["looptrace.server", "looptrace.storage", "looptrace.ingest", "looptrace.query", "fastapi", "duckdb"]


@pytest.mark.parametrize("module", ["looptrace", "looptrace.sdk"])
def test_importing_the_sdk_leaves_the_server_side_unloaded(module):
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert [m for m in HEAVY if m in loaded] == []


def test_importing_looptrace_loads_nothing_the_interpreter_had_not_but_typing() -> None:
    # `import looptrace` installs the compiled-group finder (looptrace._native); an app pays for it at
    # start-up, so it must not pull in hashlib, logging, pathlib or importlib.util (~50 ms here when it did).
    def loaded(code: str) -> set[str]:
        out = subprocess.run(
            [sys.executable, "-c", f"{code}; import json, sys; print(json.dumps(sorted(sys.modules)))"],
            capture_output=True,
            text=True,
            check=True,
        )
        return set(json.loads(out.stdout))

    added = loaded("import looptrace") - loaded("pass")
    assert added & {"hashlib", "logging", "pathlib", "importlib.util", "importlib.abc"} == set()
    assert "looptrace._native" in added
