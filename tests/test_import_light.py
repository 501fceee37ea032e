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
