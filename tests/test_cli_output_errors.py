"""The `commsvc` command when its output cannot be written: one line on stderr, no traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMSVC = str(Path(sys.executable).parent / "commsvc")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("args", [["openapi", "print"], ["openapi", "write", "/dev/full"]])
def test_a_full_disk_is_one_line_not_a_traceback(tmp_path, args):
    """Found by an operator's audit: `commsvc openapi print > spec.json` (or any command's
    output) on a full disk ended in a 30-line OSError traceback."""
    env = {**os.environ, "COMMSVC_ENV": "development",
           "DATABASE_URL": f"sqlite:///{tmp_path}/commsvc.db"}
    with open("/dev/full", "w") as full:
        done = subprocess.run([COMMSVC, *args], env=env, stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: could not write the output: No space left on device"]
