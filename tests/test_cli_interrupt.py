"""Ctrl-C during a long solve stops packopt at once: exit 130, nothing on stdout."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ctrl_c_stops_a_long_solve_within_a_second():
    # A monthly budget with purchases in any month runs a large integer program (minutes).
    proc = subprocess.Popen(
        [sys.executable, "cli.py", "plan", "--purchase-months", "any", "--monthly-budget",
         "8000", "--format", "json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)                       # well inside the solve
    assert proc.poll() is None, proc.communicate()
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert time.monotonic() - sent < 1.0
    assert proc.returncode == 130, err
    assert out == ""
    assert "interrupted" in err and "Traceback" not in err
