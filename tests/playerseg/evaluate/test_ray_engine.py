"""The Ray engine against the local engine, on a Ray head this module starts on loopback (2 worker CPUs).

Without Ray these tests skip on a developer's machine but fail in CI (CI=true), where requirements-dev.txt installs
it. The head runs as `ray start --head --block` in its own process group and is stopped by signalling that process
(`ray stop` would stop every Ray on the machine, other users' included). It asks for a token made here (Ray 2.60's
token authentication), and the Ray drivers run as subprocesses given that token: a driver's Ray reads its
authentication settings once per process and ray.init changes the process (its environment, its SIGTERM handler),
so the test process itself never connects."""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import torch

from evaluation.leaderboard.collect import read_pair
from evaluation.leaderboard.manifest import pair_folder
from evaluation.leaderboard.rows import SCORE_FILE, PairFailure
from playerseg.__main__ import main
from playerseg.evaluate.job import EvaluateError
from tests.browser import running_in_ci
from tests.playerseg.evaluate.conftest import MODELS

HEAD_START_S = 120.0
STOPPED_S = 5.0  # a pair of these takes about 1 s
DRIVER_S = 300  # one evaluate over the 6 sequences: about 40 s on a busy 2-core machine
EXACT = ("J", "F", "JF", "J_recall", "J_decay", "F_recall", "F_decay", "consecutive_iou", "flow_consistency")
EXACT += ("area_volatility", "centroid_jitter_px", "boundary_flip_rate", "presence_toggles")
MEASURED = ("latency_p50_ms", "latency_p95_ms", "fps", "peak_memory_mb")  # differ by nature between runs


def require_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        reason = "Ray is not installed (pip install -r requirements-dev.txt)"
        if running_in_ci():
            pytest.fail(f"{reason}, and CI=true: the Ray engine must be tested in CI, not skipped.", pytrace=False)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, head: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + HEAD_START_S
    while time.monotonic() < deadline:
        if head.poll() is not None:
            pytest.fail(f"ray start exited with {head.returncode}:\n{log.read_text()[-3000:]}", pytrace=False)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the Ray head did not listen on 127.0.0.1:{port} within {HEAD_START_S:.0f} s", pytrace=False)


def stop_head(head: subprocess.Popen) -> None:
    """SIGTERM to `ray start --block` stops the processes it started; its group is killed if it lingers."""
    head.send_signal(signal.SIGTERM)
    try:
        head.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait(timeout=30)


@pytest.fixture(scope="module")
def ray_head() -> Iterator[tuple[str, dict[str, str]]]:
    """The address of a Ray head on 127.0.0.1 with 2 CPUs (2 worker processes) and no GPU, and the environment a
    driver needs to connect to it (its token)."""
    require_ray()
    env = dict(os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # Ray's socket paths must stay short
    port, log = free_port(), temp / "head.log"
    command = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block"]
    command += ["--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2", "--num-gpus=0"]
    command += ["--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"]
    with open(log, "w") as output:
        head = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        wait_for_port(port, head, log)
        yield f"127.0.0.1:{port}", env
    finally:
        stop_head(head)
        shutil.rmtree(temp, ignore_errors=True)


def evaluate_command(data: Path, out: Path, address: str) -> list[str]:
    models = ",".join(MODELS)
    command = [sys.executable, "-m", "playerseg", "evaluate", "--data", str(data), "--models", models]
    return [*command, "--out", str(out), "--engine", "ray", "--address", address, "--workers", "2", "--quiet"]


def test_ray_and_local_engines_write_the_same_leaderboard(
    ray_head: tuple[str, dict[str, str]], six_sequences: Path, tmp_path: Path
) -> None:
    address, env = ray_head
    ran = subprocess.run(evaluate_command(six_sequences, tmp_path / "ray", address), env=env, timeout=DRIVER_S)
    assert ran.returncode == 0
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in each Ray worker: the thread count changes float sums, hence a few mask pixels
    try:
        command = ["evaluate", "--data", str(six_sequences), "--models", ",".join(MODELS)]
        assert main([*command, "--out", str(tmp_path / "local"), "--engine", "local", "--quiet"]) == 0
    finally:
        torch.set_num_threads(threads)
    key = ["model", "sequence"]
    ray, local = (
        pd.read_csv(tmp_path / name / "leaderboard.csv").sort_values(key).reset_index(drop=True)
        for name in ("ray", "local")
    )
    assert len(ray) == len(MODELS) * 6
    assert ray[key].equals(local[key])
    for column in EXACT:
        assert ray[column].to_numpy() == pytest.approx(local[column].to_numpy(), abs=1e-6, nan_ok=True), column
    for column in MEASURED:
        assert all(math.isfinite(v) and v > 0 for v in ray[column]), column
    assert not list((tmp_path / "ray").glob("runs/*/.*"))  # no staging folder left behind


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_cancels_the_pairs_still_out_and_keeps_what_finished(
    ray_head: tuple[str, dict[str, str]], six_sequences: Path, tmp_path: Path, stop: signal.Signals, code: int
) -> None:
    address, env = ray_head
    out = tmp_path / "out"
    process = subprocess.Popen(
        evaluate_command(six_sequences, out, address), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + DRIVER_S
    while not list(out.glob(f"runs/*/*/{SCORE_FILE}")) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=120)
    kept = sorted(out.glob(f"runs/*/*/{SCORE_FILE}"))
    assert process.returncode == code, stderr.decode()[-3000:]
    assert f"Stopped: {len(kept)} of 12 pairs are finished and kept in {out}" in stderr.decode()
    assert len(kept) < 12
    time.sleep(STOPPED_S)  # a pair that was still running would finish by now had its worker not been stopped
    assert sorted(out.glob(f"runs/*/*/{SCORE_FILE}")) == kept
    assert not list(out.glob("runs/*/.*"))  # nothing half-written is left behind


def test_without_an_address_a_ray_is_started_for_the_run_and_stopped_after_it(
    six_sequences: Path, tmp_path: Path
) -> None:
    require_ray()
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # Ray's session folder: its socket paths stay short
    # HOME: ray.init writes its token to ~/.ray/auth_token; RAY_TMPDIR: where the started Ray's processes live
    env = dict(os.environ, HOME=str(tmp_path), RAY_TMPDIR=str(temp))
    command = [sys.executable, "-m", "playerseg", "evaluate", "--data", str(six_sequences), "--models", MODELS[0]]
    command += ["--out", str(tmp_path / "out"), "--engine", "ray", "--workers", "2", "--quiet"]
    try:
        ran = subprocess.run(command, env=env, capture_output=True, text=True, timeout=DRIVER_S)
        assert ran.returncode == 0, ran.stderr[-3000:]
        assert len(pd.read_csv(tmp_path / "out" / "leaderboard.csv")) == 6
        left = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        assert str(temp) not in left  # no process of the Ray it started outlives the command
    finally:
        shutil.rmtree(temp, ignore_errors=True)


DEAD_OR_RAISING = """
import json, os, sys
import ray
from playerseg.evaluate.pair import PairTask
from playerseg.evaluate.ray_engine import _outcome

def exit_at_once():
    os._exit(1)  # as a worker killed for memory would: no exception, no clean-up

def int_of(text):
    return int(text)

ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
task = PairTask("/nowhere", sys.argv[2], "test-sam2.1-tiny-128", "seq000")
died = ray.remote(exit_at_once).options(max_retries=0).remote()
raised = ray.remote(int_of).options(max_retries=0).remote("not a number")
print(json.dumps([_outcome(ray, ref, task).result.reason for ref in (died, raised)]))
"""


def test_a_dead_worker_or_a_task_error_becomes_a_one_sentence_failure(
    ray_head: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    address, env = ray_head
    folder = pair_folder(tmp_path, "test-sam2.1-tiny-128", "seq000")
    leftover = folder.with_name(".seq000.partial-123")
    leftover.mkdir(parents=True)  # what a worker that died mid-pair leaves behind
    script = textwrap.dedent(DEAD_OR_RAISING)
    ran = subprocess.run(
        [sys.executable, "-c", script, address, str(tmp_path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    died, raised = json.loads(ran.stdout.strip().splitlines()[-1])
    assert died.startswith("test-sam2.1-tiny-128 on seq000: its Ray worker died before finishing")
    assert raised.startswith("test-sam2.1-tiny-128 on seq000 failed: invalid literal for int()")
    assert all(reason.count(". ") == 0 and reason.endswith(".") for reason in (died, raised))
    assert read_pair(folder) == PairFailure("test-sam2.1-tiny-128", "seq000", raised)
    assert not leftover.exists()


def test_without_ray_the_engine_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from playerseg.evaluate.ray_engine import run_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(EvaluateError, match=r"--engine ray needs Ray: pip install '\.\[cluster\]'"):
        run_ray([], lambda outcome: None)


def test_an_address_where_nothing_listens_fails_in_one_sentence_at_once(
    six_sequences: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_ray()
    address = f"127.0.0.1:{free_port()}"  # free: nothing listens there
    started = time.monotonic()
    command = ["evaluate", "--data", str(six_sequences), "--models", MODELS[0], "--out", str(tmp_path / "out")]
    assert main([*command, "--engine", "ray", "--address", address, "--quiet"]) == 2
    assert time.monotonic() - started < 60  # not ray.init's retries (about 15 minutes)
    error = capsys.readouterr().err.strip()
    assert error == f"error: Nothing answers at --address {address} (Connection refused): is the Ray head running?"
