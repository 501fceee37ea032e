from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pure_ui_modules_pass_their_node_unit_tests() -> None:
    node = shutil.which("node")
    assert node is not None, "node is needed for the UI's unit tests (tests/ui_js)"
    result = subprocess.run(
        [node, "--test", "tests/ui_js/"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
