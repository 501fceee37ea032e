"""The client-side CLI starts without loading the SDK or OpenTelemetry (start-up time is what `show` waits for)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_the_show_command_path_loads_neither_the_sdk_nor_opentelemetry():
    code = (
        "import json, sys\n"
        "from looptrace.cli import _common, _render, _show\n"
        "import looptrace.client\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert [m for m in loaded if m.startswith(("opentelemetry", "looptrace.sdk"))] == []


def test_the_sdk_names_still_load_on_first_use_and_share_the_error_root():
    code = (
        "import looptrace, looptrace.client\n"
        "assert issubclass(looptrace.client.ClientError, looptrace.LooptraceError)\n"
        "from looptrace import ConfigurationError, init\n"
        "from looptrace.sdk import LooptraceError\n"
        "assert LooptraceError is looptrace.LooptraceError and callable(init)\n"
        "assert issubclass(ConfigurationError, LooptraceError)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
