"""Shared fixtures: where the real clips live (../shared/data), skipped with a reason when absent.

The test process (and every subprocess a test starts, which inherits its environment):
- runs torch/OpenMP/MKL on OMP_NUM_THREADS threads, 2 unless set (set before torch is imported: with the default
  one thread per core, a busy 2-core machine ran one test file 11x slower);
- never reaches the Hugging Face Hub: HF_HUB_OFFLINE=1, TRANSFORMERS_OFFLINE=1 and HF_HOME in an empty temporary
  folder for the session, so a real model name fails offline the same way on every machine, whatever its cache.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

DEFAULT_TEST_THREADS = "2"
os.environ.setdefault("OMP_NUM_THREADS", DEFAULT_TEST_THREADS)
os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])

import pytest  # noqa: E402
import torch  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
# cache locations that would take precedence over HF_HOME: unset for the session, so HF_HOME decides
HUB_CACHE_VARIABLES = ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_XET_CACHE", "HF_ASSETS_CACHE")


def pinned_threads() -> int:
    """The thread count the test process pins torch to (OMP_NUM_THREADS, 2 when unset or unreadable)."""
    try:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    except ValueError:
        return int(DEFAULT_TEST_THREADS)


torch.set_num_threads(pinned_threads())
_HF_HOME_KEY = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Offline Hugging Face set-up for the session (see the module docstring); removed at the end."""
    hf_home = tempfile.mkdtemp(prefix="playerseg-tests-hf-")
    config.stash[_HF_HOME_KEY] = hf_home
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": hf_home})
    for variable in HUB_CACHE_VARIABLES:
        os.environ.pop(variable, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    hf_home = config.stash.get(_HF_HOME_KEY, None)
    if hf_home is not None:
        shutil.rmtree(hf_home, ignore_errors=True)


def shared_data_dir() -> Path:
    """The real clips folder: $PLAYERSEG_SHARED_DATA, else ../shared/data beside the checkout."""
    override = os.environ.get("PLAYERSEG_SHARED_DATA")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    root = shared_data_dir()
    if not root.is_dir():
        pytest.skip(f"real clips folder {root} is absent (set PLAYERSEG_SHARED_DATA to use it)")
    return root


@pytest.fixture(scope="session")
def juggle_clip(shared_data: Path) -> Path:
    path = shared_data / "clips" / "juggle_1280x720_24fps.mp4"
    if not path.is_file():
        pytest.skip(f"real clip {path} is absent")
    return path


@pytest.fixture(scope="session")
def judo_dir(shared_data: Path) -> Path:
    path = shared_data / "judo"
    if not (path / "JPEGImages").is_dir():
        pytest.skip(f"real DAVIS folder {path} is absent")
    return path
