"""Ctrl-C during a long solve stops packopt at once: exit 130, nothing on stdout."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def _children(pid: int) -> list[int]:
    """The pids whose parent is `pid` (from /proc)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("setpriv"),
                    reason="the kernel's parent-death signal (Linux, util-linux's setpriv)")
def test_cbc_ends_with_packopt_when_it_is_killed(tmp_path):
    """A script's timeout kills packopt (SIGKILL, no handler runs): CBC, a process of its
    own, must not run on to its time limit, or for ever without one. Killed once one CBC
    run has lasted a second (the plan's long integer program, not one of its short ones).
    Nothing can remove CBC's files after SIGKILL, so they go to a folder of the test's."""
    proc = subprocess.Popen(
        [sys.executable, "cli.py", "plan", "--purchase-months", "any", "--monthly-budget",
         "8000", "--solver", "cbc", "--format", "json"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        deadline, seen, long_run = time.monotonic() + 120, {}, None
        while long_run is None and time.monotonic() < deadline and proc.poll() is None:
            now = time.monotonic()
            for kid in _children(proc.pid):
                seen.setdefault(kid, now)
                if now - seen[kid] >= 1.0 and _alive(kid):
                    long_run = kid
            time.sleep(0.05)
        assert long_run is not None, "no CBC run lasted a second"
    finally:
        proc.kill()
        proc.wait()
    time.sleep(1.0)
    assert not _alive(long_run)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ending_packopt_leaves_no_cbc_files(tmp_path, sig, status):
    """CBC runs on a model file and writes a log and a solution beside it; ended by Ctrl-C
    (os._exit, so no worker thread's `finally` runs) or by SIGTERM, packopt left them in
    the temporary folder. Ended once a model file is there."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "cli.py", "plan", "--purchase-months", "any", "--monthly-budget",
         "8000", "--solver", "cbc", "--format", "json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("*.mps")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        assert list(tmp_path.glob("*.mps")), "CBC never started"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == status, err
    assert out == "" and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_cbc_run_starting_after_the_exit_function_leaves_no_file(tmp_path, monkeypatch):
    """Ctrl-C runs the exit functions, which remove CBC's files, then os._exit; a worker
    thread still running in between started the next CBC run, and its model and log stayed
    in the temporary folder (seen once in CI). After the exit function a CBC run's files
    are removed as they are made, and its thread waits for the end."""
    import threading

    from optimizer.solve import solvers
    monkeypatch.setattr(solvers, "_cbc_closed", threading.Event())
    solvers._remove_cbc_files()                     # (the exit function, on a fresh flag)
    log = tmp_path / "packopt-cbc-x.log"
    log.write_text("")
    worker = threading.Thread(target=solvers._track, args=(str(log),), daemon=True)
    worker.start()
    worker.join(0.5)
    assert worker.is_alive() and not log.exists()
    assert str(log) not in solvers._cbc_files


def test_ctrl_c_while_inputs_are_read_ends_with_130(monkeypatch):
    """Outside a solve (reading a forecast, writing a report) Click turns Ctrl-C into its
    Abort: that too is "interrupted", status 130, not Click's "Aborted!" and 1 (which
    packopt's docs give to a solver's failure)."""
    from click.testing import CliRunner

    import cli as cli_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli_module, "read_inputs", interrupted)
    r = CliRunner().invoke(cli_module.cli, ["bill", str(ROOT / "optimizer" / "data" /
                                                     "example_forecast.csv"), "--plan", "x.csv"])
    assert r.exit_code == 130, r.output
    assert "packopt: interrupted" in r.stderr and "Aborted" not in r.stderr
    assert r.stdout == ""


# A process that loads the program and is sent Ctrl-C in the middle of an import (the
# first tenth of a second of every command): the signal arrives as `click` is imported.
_LOADING = """
import os, signal, sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "click":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Interrupt())
import cli
print("loaded")
"""


def test_ctrl_c_while_the_program_loads_ends_with_130():
    """Not a KeyboardInterrupt traceback out of whichever import it hit."""
    r = subprocess.run([sys.executable, "-c", _LOADING], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 130, r.stderr
    assert r.stderr == "packopt: interrupted\n" and r.stdout == ""


def test_loading_the_program_leaves_the_importers_ctrl_c_alone():
    """The quiet exit is for the program's own loading: once loaded, Ctrl-C is what the
    importer had (a script importing cli keeps its KeyboardInterrupt)."""
    code = ("import signal; before = signal.getsignal(signal.SIGINT); import cli; "
            "print(signal.getsignal(signal.SIGINT) is before)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.stdout.strip() == "True", r.stderr


def _market_split(m: int = 4, seed: int = 1):
    """A market split instance (Cornuéjols and Dawande): a few dozen binaries that HiGHS
    branches on for minutes."""
    import random

    import pulp
    rng, n = random.Random(seed), 10 * (m - 1)
    prob = pulp.LpProblem("split", pulp.LpMinimize)
    x = [prob.add_variable(f"x{j}", cat="Binary") for j in range(n)]
    over = [prob.add_variable(f"over{i}", 0) for i in range(m)]
    under = [prob.add_variable(f"under{i}", 0) for i in range(m)]
    prob += pulp.lpSum(over) + pulp.lpSum(under)
    for i in range(m):
        a = [rng.randint(0, 99) for _ in range(n)]
        prob += pulp.lpSum(aj * xj for aj, xj in zip(a, x)) + over[i] - under[i] == \
            sum(a) // 2, f"row{i}"
    return prob


def test_ctrl_c_in_a_library_caller_stops_the_solves_beside_it():
    """A library caller's Ctrl-C arrives while products are solved on two threads: their
    solves stop, and the KeyboardInterrupt follows within a second or two (it came only
    once both had run to their own time limit, here 120 s)."""
    import _thread
    import threading

    from optimizer.solve import planner
    from optimizer.solve.solvers import Status, solve
    ended = []

    def job(i):
        out = solve(_market_split(seed=i + 1), "highs", 120)
        ended.append(out.status)
        return out
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        planner._in_threads(job, 2, threads=2)
    timer.join()
    assert time.perf_counter() - t0 < 20
    assert len(ended) == 2 and Status.OPTIMAL not in ended


def _interrupted(wait) -> None:
    """`wait()` in this thread, Ctrl-C (a real SIGINT, as a library caller gets it) half a
    second in. The SIGINT is answered only while `wait()` runs: one arriving after it (had
    `wait()` ended early) would hit a later test, or end the run in a solve's Ctrl-C
    handler (status 130)."""
    import threading
    armed = [True]

    def handler(signum, frame):
        if armed[0]:
            armed[0] = False
            raise KeyboardInterrupt
    before = signal.signal(signal.SIGINT, handler)
    timer = threading.Timer(0.5, signal.pthread_kill,
                            (threading.main_thread().ident, signal.SIGINT))
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            wait()
    finally:
        armed[0] = False
        timer.cancel()
        timer.join()
        time.sleep(0.05)            # (a signal already sent is handled here, disarmed)
        signal.signal(signal.SIGINT, before)


def test_ctrl_c_while_the_raised_caps_plan_is_awaited_leaves_it_seen_running(monkeypatch):
    """A Thread.join interrupted by Ctrl-C marks the thread ended while it runs (CPython
    before 3.13): the budget's value then read a result that was never set, and the
    interpreter's exit no longer waited for the solve."""
    import threading

    from optimizer.analysis import budget, planning
    release = threading.Event()

    def slow_plan(*args, cancel=None, **kwargs):
        release.wait(30)
        return "plan"
    monkeypatch.setattr(budget, "raised_plan", slow_plan)
    ahead = planning._Ahead(None, None, (None, None, None), {}, time.perf_counter())
    ahead.start({})
    _interrupted(lambda: ahead.result(30))
    assert ahead.thread.is_alive()
    assert ahead.result(0.1) is None            # still running, not a result
    release.set()
    assert ahead.result(10) == "plan"
    ahead.thread.join()


def test_ctrl_c_while_a_twin_is_settled_leaves_it_seen_running(monkeypatch):
    """The same for the HiGHS twin the main solve waits for: the exit must wait for it (one
    still in HiGHS when the interpreter ends aborts the process)."""
    import threading

    from optimizer.solve import solvers
    monkeypatch.setattr(solvers, "TWIN_WAIT", 30)
    release = threading.Event()
    twin = solvers._Twin.__new__(solvers._Twin)
    twin.done, twin.proved, twin.ended = threading.Event(), threading.Event(), \
        threading.Event()
    twin.highs = None
    twin._draws = lambda: release.wait(30)      # a solve slow to see that it should stop
    twin.thread = threading.Thread(target=twin._run)
    twin.thread.start()
    _interrupted(lambda: twin.settle(None))
    assert twin.thread.is_alive() and not twin.ended.is_set()
    release.set()
    twin.thread.join()
    assert twin.ended.is_set()


@pytest.mark.skipif(not hasattr(signal, "SIGPIPE"), reason="no SIGPIPE on this platform")
def test_a_reader_that_closes_the_pipe_ends_the_command_with_status_1(tmp_path):
    """`packopt bill F --months --format csv | head -c 10`: Python's write stopped at the
    pipe's capacity without an error, and the command ended with status 0, its output
    cut. docs/cli.md: a closed output is status 1, nothing on stderr."""
    forecast = tmp_path / "f.csv"
    forecast.write_text("product,month,calls\n" + "".join(      # (200 kB: past the pipe's 64)
        f"{p},{2027 + m // 12}-{m % 12 + 1:02d},{20000 + m}\n"
        for p in ("general_print", "id_card", "bank_card") for m in range(600)))
    proc = subprocess.Popen([sys.executable, "cli.py", "bill", str(forecast), "--months",
                             "--format", "csv"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert len(proc.stdout.read(10)) == 10
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1 and err == b""
