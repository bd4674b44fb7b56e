"""Start `python app.py` (the README's command) in a subprocess on a free port and wait until it serves."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# cache locations that would take precedence over HF_HOME: left out of the server's environment
HUB_CACHE_VARIABLES = ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_XET_CACHE", "HF_ASSETS_CACHE")
# the auto-labeler last: model A's default, so the example test runs it in the browser too
TEST_MODELS = "test-sam2.1-tiny-128,test-sam2.1-tiny-256,sam2.1-large,autolabel:test-gdino-tiny+test-sam2.1-tiny-128"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(port: int, work_dir: Path, hf_home: Path, **env: str) -> dict[str, str]:
    """The app's environment: test models on CPU, pinned threads, and no way to the Hugging Face Hub (offline, an
    empty HF_HOME of its own), so a real model name in the list fails offline on any machine instead of
    downloading. `env` comes last and wins."""
    inherited = {key: value for key, value in os.environ.items() if key not in HUB_CACHE_VARIABLES}
    return {
        **inherited,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PLAYERSEG_MODELS": TEST_MODELS,
        "PLAYERSEG_DEVICE": "cpu",
        "PLAYERSEG_WORK_DIR": str(work_dir),
        "PLAYERSEG_EXAMPLE_FRAMES": "12",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"),
        "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "2")),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HOME": str(hf_home),
        **env,
    }


@contextmanager
def serve_app(work_dir: Path, log_path: Path, **env: str) -> Iterator[str]:
    """Yields the app's URL; the server's output goes to log_path (read it when a test fails)."""
    port = free_port()
    hf_home = tempfile.TemporaryDirectory(prefix="playerseg-app-hf-")
    environment = server_environment(port, work_dir, Path(hf_home.name), **env)
    url = f"http://127.0.0.1:{port}/"
    with hf_home, open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_serving(url, process, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_until_serving(url: str, process: subprocess.Popen, log_path: Path, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"app.py did not serve {url} within {timeout_s:.0f} s:\n{log_path.read_text()[-3000:]}")
