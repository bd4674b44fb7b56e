"""App settings: small typed defaults, overridden by environment variables (Spaces sets them as secrets/variables).

    PLAYERSEG_MODELS            comma-separated registry names or checkpoint paths offered in the model dropdowns
    PLAYERSEG_MODELS_DIR        folder whose finetuned models (sub-folders with model.json + checkpoint.pt, as
                                `python -m playerseg.finetune --out` writes them) are offered too (default: models/)
    PLAYERSEG_MAX_FRAMES        most frames one run processes (longer selections are trimmed, with a notice)
    PLAYERSEG_MAX_SIDE          longest frame side the models see (larger clips are downscaled, with a notice)
    PLAYERSEG_GPU_CONCURRENCY   how many runs share the GPU at once (the queue holds the rest)
    PLAYERSEG_DEVICE            cpu / cuda / cuda:N (default: cuda when available)
    PLAYERSEG_WORK_DIR          where sessions write their runs (default: a temporary folder)
    PLAYERSEG_EXAMPLE_FRAMES    length of the synthetic example clip generated at start-up
    PLAYERSEG_MAX_OBJECTS       most objects (players) one run tracks; more are refused with one sentence
    PLAYERSEG_MAX_OBJECT_FRAMES most frames x objects one run processes (longer selections are trimmed, with a notice)
    PLAYERSEG_RUN_TIMEOUT_S     wall time one run may take; a run past it is stopped and reported
    PLAYERSEG_MAX_UPLOAD_MB     largest file a user may upload (Gradio refuses larger ones)
    PLAYERSEG_RESULT_TTL_S      how long API results and uploaded files are kept on the server
    PLAYERSEG_DATASET_DIR       the dataset the review tab adds sequences to (default: datasets/golden)

GRADIO_SERVER_NAME / GRADIO_SERVER_PORT are read by Gradio itself.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from playerseg.autolabel.labeler import AUTOLABEL_PREFIX, DEFAULT_AUTOLABELER
from playerseg.errors import PlayerSegError
from playerseg.tracking import nano_store
from playerseg.tracking.nano_store import NANO_MODELS
from playerseg.tracking.registry import (
    BUILTIN_MODELS,
    DEFAULT_MODELS_DIR,
    ModelUnavailableError,
    finetuned_folders,
    get_spec,
    hub_cached,
    hub_reachable,
)
from playerseg.ui.limits import RunLimits

# The auto-labeler (Grounding DINO "person" -> SAM2 Large: the baseline teams run today), then the zero-shot SAM2
# sizes, largest first, then the two models trained here on synthetic footage (they need no download).
OFFLINE_PAIR = NANO_MODELS  # nano-generalist (zero-shot stand-in), nano-pitch (its pitch specialist)
DEFAULT_MODELS = (DEFAULT_AUTOLABELER, "sam2.1-large", "sam2.1-base-plus", "sam2.1-small", "sam2.1-tiny", *OFFLINE_PAIR)
HUB_DEFAULTS = ("sam2.1-large", "sam2.1-small")  # the hub models the default pair would download
DEFAULT_MAX_FRAMES = 300  # ~12 s at 25 fps: long enough to see drift, short enough for one GPU call
DEFAULT_MAX_SIDE = 1280  # 720p; SAM2 sees 1024 px anyway, larger frames only cost decode and render time
DEFAULT_EXAMPLE_FRAMES = 24
# One run must not hold the GPU queue for long: 254 objects on 12 frames once took 341 s while every other user waited.
DEFAULT_MAX_OBJECTS = 20  # a full side of players and then some
DEFAULT_MAX_OBJECT_FRAMES = 3000  # e.g. 10 players x 300 frames, or 20 players x 150 frames
DEFAULT_RUN_TIMEOUT_S = 900  # 15 min: sam2.1-large with 10 players over 300 frames takes a few minutes on a GPU
DEFAULT_MAX_UPLOAD_MB = 500  # a few minutes of 1080p H.264; longer clips are cut before uploading
DEFAULT_RESULT_TTL_S = 3600  # API results and uploads live an hour (a session's own runs live as long as its tab)
DEFAULT_DATASET_DIR = "datasets/golden"


class ConfigError(PlayerSegError, ValueError):
    """A setting the app cannot start with; the message names the variable."""


@dataclass(frozen=True)
class AppConfig:
    models: tuple[str, ...] = DEFAULT_MODELS
    max_frames: int = DEFAULT_MAX_FRAMES
    max_side: int = DEFAULT_MAX_SIDE
    gpu_concurrency: int = 1
    device: str | None = None
    work_dir: str = ""
    example_frames: int = DEFAULT_EXAMPLE_FRAMES
    max_objects: int = DEFAULT_MAX_OBJECTS
    max_object_frames: int = DEFAULT_MAX_OBJECT_FRAMES
    run_timeout_s: int = DEFAULT_RUN_TIMEOUT_S
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    result_ttl_s: int = DEFAULT_RESULT_TTL_S
    hub_offline: bool = False  # the hub models are neither cached here nor downloadable: default to the nano pair
    dataset_dir: str = DEFAULT_DATASET_DIR

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, hub_probe: Callable[[Mapping[str, str]], bool] | None = None
    ) -> AppConfig:
        """Settings from the environment; `hub_probe(env)` tells whether the Hub can be reached (default: a
        connection to huggingface.co, unless HF_HUB_OFFLINE is set), asked only when no hub model is cached."""
        env = os.environ if environ is None else environ
        models = tuple(m.strip() for m in env.get("PLAYERSEG_MODELS", "").split(",") if m.strip()) or DEFAULT_MODELS
        found = [str(f) for f in finetuned_folders(env.get("PLAYERSEG_MODELS_DIR") or DEFAULT_MODELS_DIR)]
        models += tuple(f for f in found if f not in models)
        work_dir = env.get("PLAYERSEG_WORK_DIR") or str(Path(tempfile.gettempdir()) / "playerseg-app")
        return cls(
            models=models,
            max_frames=_positive_int(env, "PLAYERSEG_MAX_FRAMES", DEFAULT_MAX_FRAMES),
            max_side=_positive_int(env, "PLAYERSEG_MAX_SIDE", DEFAULT_MAX_SIDE, minimum=64),
            gpu_concurrency=_positive_int(env, "PLAYERSEG_GPU_CONCURRENCY", 1),
            device=env.get("PLAYERSEG_DEVICE") or None,
            work_dir=work_dir,
            example_frames=_positive_int(env, "PLAYERSEG_EXAMPLE_FRAMES", DEFAULT_EXAMPLE_FRAMES, minimum=2),
            max_objects=_positive_int(env, "PLAYERSEG_MAX_OBJECTS", DEFAULT_MAX_OBJECTS),
            max_object_frames=_positive_int(env, "PLAYERSEG_MAX_OBJECT_FRAMES", DEFAULT_MAX_OBJECT_FRAMES),
            run_timeout_s=_positive_int(env, "PLAYERSEG_RUN_TIMEOUT_S", DEFAULT_RUN_TIMEOUT_S),
            max_upload_mb=_positive_int(env, "PLAYERSEG_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB),
            result_ttl_s=_positive_int(env, "PLAYERSEG_RESULT_TTL_S", DEFAULT_RESULT_TTL_S),
            hub_offline=_hub_offline(models, env, hub_probe or hub_reachable),
            dataset_dir=env.get("PLAYERSEG_DATASET_DIR") or DEFAULT_DATASET_DIR,
        )

    @property
    def limits(self) -> RunLimits:
        return RunLimits(
            max_frames=self.max_frames,
            max_side=self.max_side,
            max_objects=self.max_objects,
            max_object_frames=self.max_object_frames,
            timeout_s=self.run_timeout_s,
        )

    @property
    def finetuned(self) -> tuple[str, ...]:
        """Entries that are SAM2 checkpoints rather than built-in names, auto-labelers or other families (a U-Net
        baseline folder): the user's finetuned models."""
        return tuple(
            m
            for m in self.models
            if m not in BUILTIN_MODELS and not m.startswith(AUTOLABEL_PREFIX) and _family(m) == "sam2"
        )

    def default_pair(self) -> tuple[str, str]:
        """Offline (hub models neither cached nor downloadable) with the nano models offered: nano-generalist, and
        the finetuned model or nano-pitch. Otherwise model A: the auto-labeler when offered, else zero-shot
        sam2.1-large; model B: the finetuned model when one is configured, else sam2.1-small; otherwise the first
        two entries."""
        models = list(self.models)
        if self.hub_offline and all(m in models for m in OFFLINE_PAIR):
            return OFFLINE_PAIR[0], self.finetuned[0] if self.finetuned else OFFLINE_PAIR[1]
        autolabelers = [m for m in models if m.startswith(AUTOLABEL_PREFIX)]
        model_a = autolabelers[0] if autolabelers else "sam2.1-large" if "sam2.1-large" in models else models[0]
        others = [m for m in models if m != model_a] or [model_a]
        if self.finetuned and self.finetuned[0] != model_a:
            return model_a, self.finetuned[0]
        return model_a, "sam2.1-small" if "sam2.1-small" in others else others[0]


def _hub_offline(models: tuple[str, ...], env: Mapping[str, str], probe: Callable[[Mapping[str, str]], bool]) -> bool:
    """True when the nano pair is offered and usable (weights present, sha256 as built) and neither hub default is
    cached nor the Hub reachable."""
    if not all(m in models and _usable(m) for m in OFFLINE_PAIR) or any(hub_cached(name) for name in HUB_DEFAULTS):
        return False
    return not probe(env)


def _family(model: str) -> str:
    """The model's family (a broken or missing entry counts as SAM2: loading it says what is wrong)."""
    try:
        return get_spec(model).family
    except ModelUnavailableError:
        return "sam2"


def _usable(nano_model: str) -> bool:
    try:
        nano_store.checked_checkpoint(nano_model)
    except nano_store.NanoWeightsError:
        return False
    return True


def _positive_int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}.")
    return value
