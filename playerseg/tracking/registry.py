"""SAM2 model specs by name, checkpoint resolution and loading.

A model name is one of the hub models (`sam2.1-tiny` ... `sam2.1-large`, weights from the Hugging Face Hub),
a test-size model (`test-sam2.1-tiny-128`, `test-sam2.1-tiny-256`: the real SAM2.1 tiny architecture at a reduced
image size with random weights from a fixed seed), a benchmark model (`random-sam2.1-tiny` ... `random-sam2.1-large`:
each size's real architecture at 1024 px with random weights, for measuring costs offline), a model trained here on
synthetic footage (`nano-generalist`, `nano-pitch`: the small "nano" SAM2 architecture the project ships, weights in
playerseg/tracking/nano_weights/, see nano_store.py; `random-sam2.1-nano` is that architecture untrained), or a
local checkpoint: a `.pt` file or a folder holding one. Other families (`ModelSpec.family`) sit in the same
comparisons: the U-Net baseline (`unet:NAME`, `test-unet`; unet_models) and SAM 3's tracker (`sam3`, `test-sam3`,
`random-sam3`; sam3_model), each with its own loader and tracker (trackers.open_tracker).

Heavy imports (torch, sam2 -- importing sam2 initialises Hydra) happen inside the functions that need them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from playerseg.errors import PlayerSegError
from playerseg.tracking import nano_store, unet_models
from playerseg.tracking.predictor_build import build_predictor, install_memory_dtype_fix, load_sam2_weights
from playerseg.tracking.project_configs import NANO_CONFIG, is_project_config

RANDOM_WEIGHTS = "random"
RANDOM_WEIGHTS_LABEL = "random weights (a test model: its masks mean nothing)"
FINETUNED_FROM_RANDOM_LABEL = "finetuned from random weights (test-size model: its masks mean nothing on real footage)"
SYNTHETIC_ONLY_LABEL = nano_store.SYNTHETIC_ONLY_LABEL
NANO_IMAGE_SIZE = 256

# sam2 hydra config names, keyed by the size word used in model names.
SAM2_CONFIGS: dict[str, str] = {
    "tiny": "configs/sam2.1/sam2.1_hiera_t.yaml",
    "small": "configs/sam2.1/sam2.1_hiera_s.yaml",
    "base-plus": "configs/sam2.1/sam2.1_hiera_b+.yaml",
    "large": "configs/sam2.1/sam2.1_hiera_l.yaml",
}
# Checkpoint file names inside the hub repos facebook/sam2.1-hiera-<size>.
SAM2_HUB_FILES: dict[str, str] = {
    "tiny": "sam2.1_hiera_tiny.pt",
    "small": "sam2.1_hiera_small.pt",
    "base-plus": "sam2.1_hiera_base_plus.pt",
    "large": "sam2.1_hiera_large.pt",
}
# Words in a local checkpoint's file name that tell its size (e.g. sam2.1_hiera_small.pt, sam2_hiera_b+.pt).
_SIZE_HINTS: list[tuple[str, str]] = [
    ("base_plus", "base-plus"),
    ("base-plus", "base-plus"),
    ("b+", "base-plus"),
    ("large", "large"),
    ("hiera_l", "large"),
    ("small", "small"),
    ("hiera_s", "small"),
    ("tiny", "tiny"),
    ("hiera_t", "tiny"),
]
TEST_MODEL_SEED = 20240801
CHECKPOINT_FILE_NAMES = ("checkpoint.pt", "model.pt")
FINETUNED_PREFIX = "finetuned: "


class ModelUnavailableError(PlayerSegError, RuntimeError):
    """A model cannot be built: unknown name, missing or unreadable checkpoint. The message is for the user."""


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to build one video model (SAM2 unless `family` says otherwise)."""

    name: str
    config: str  # sam2 hydra config name
    image_size: int
    source: str  # "hub", "local", "random" or "nano" (trained here on synthetic footage)
    hf_repo: str | None = None
    hf_filename: str | None = None
    path: str | None = None  # local checkpoint file
    seed: int | None = None  # random-weight models only
    description: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # e.g. a finetuned model's model.json
    random_base: bool = False  # a local checkpoint finetuned from a random-weight test model
    memory: str = "sam2"  # "motion": the `+motion` variant (same weights, motion-aware memory while tracking)
    family: str = "sam2"  # the architecture and its tracker: "sam2", "unet" (per-frame baseline) or "sam3"

    @property
    def random_weights(self) -> bool:
        """True when what the model outputs means nothing on real footage: random weights, or trained from them."""
        return self.source == RANDOM_WEIGHTS or self.random_base

    @property
    def synthetic_only(self) -> bool:
        """True for weights that never saw real footage: the nano models, and models finetuned from them."""
        return self.source == nano_store.SOURCE or bool(self.facts.get("synthetic_only"))

    @property
    def weights_label(self) -> str:
        if self.random_base:
            return FINETUNED_FROM_RANDOM_LABEL
        if self.random_weights:
            return RANDOM_WEIGHTS_LABEL
        return SYNTHETIC_ONLY_LABEL if self.synthetic_only else "trained"


def _hub_spec(size: str) -> ModelSpec:
    return ModelSpec(
        name=f"sam2.1-{size}",
        config=SAM2_CONFIGS[size],
        image_size=1024,
        source="hub",
        hf_repo=f"facebook/sam2.1-hiera-{size}",
        hf_filename=SAM2_HUB_FILES[size],
        description=f"SAM 2.1 Hiera {size} (zero-shot), weights from the Hugging Face Hub",
    )


def _test_spec(image_size: int) -> ModelSpec:
    return ModelSpec(
        name=f"test-sam2.1-tiny-{image_size}",
        config=SAM2_CONFIGS["tiny"],
        image_size=image_size,
        source=RANDOM_WEIGHTS,
        seed=TEST_MODEL_SEED,
        description=f"SAM 2.1 tiny architecture at {image_size} px, {RANDOM_WEIGHTS_LABEL}",
    )


def _benchmark_spec(size: str) -> ModelSpec:
    """A SAM 2.1 size at its real 1024 px input with random weights: what that size costs (time, memory), offline."""
    return ModelSpec(
        name=f"random-sam2.1-{size}",
        config=SAM2_CONFIGS[size],
        image_size=1024,
        source=RANDOM_WEIGHTS,
        seed=TEST_MODEL_SEED,
        description=f"SAM 2.1 {size} architecture at 1024 px for benchmarks, {RANDOM_WEIGHTS_LABEL}",
    )


def _nano_architecture_spec() -> ModelSpec:
    """The nano architecture untrained: what `make models` starts the generalist from, and its costs."""
    return ModelSpec(
        name="random-sam2.1-nano",
        config=NANO_CONFIG,
        image_size=NANO_IMAGE_SIZE,
        source=RANDOM_WEIGHTS,
        seed=TEST_MODEL_SEED,
        description=f"the nano SAM2 architecture at {NANO_IMAGE_SIZE} px, {RANDOM_WEIGHTS_LABEL}",
    )


def _nano_spec(name: str) -> ModelSpec:
    """A nano model trained here; its checkpoint is checked (sha256) when the model is loaded, not here."""
    return ModelSpec(
        name=name,
        config=NANO_CONFIG,
        image_size=NANO_IMAGE_SIZE,
        source=nano_store.SOURCE,
        description=nano_store.DESCRIPTIONS[name],
    )


BUILTIN_MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        *(_hub_spec(size) for size in SAM2_CONFIGS),
        *(_nano_spec(name) for name in nano_store.NANO_MODELS),
        _test_spec(128),
        _test_spec(256),
        *(_benchmark_spec(size) for size in SAM2_CONFIGS),
        _nano_architecture_spec(),
        unet_models.test_spec(),
    ]
}


def list_models() -> list[str]:
    """Names of the built-in models (hub and test-size)."""
    return list(BUILTIN_MODELS)


MOTION_SUFFIX = "+motion"


def get_spec(name_or_path: str) -> ModelSpec:
    """The spec for a model name or a local checkpoint path, either with the `+motion` suffix (the same model with
    motion-aware memory); raises ModelUnavailableError when neither."""
    if name_or_path in BUILTIN_MODELS:
        return BUILTIN_MODELS[name_or_path]
    path = Path(name_or_path).expanduser()
    if path.exists():
        return _local_spec(path)
    if name_or_path.endswith(MOTION_SUFFIX) and len(name_or_path) > len(MOTION_SUFFIX):
        base = get_spec(name_or_path.removesuffix(MOTION_SUFFIX))
        if base.family != "sam2":
            raise ModelUnavailableError(f"{base.name} has no memory to make motion-aware: +motion is for SAM2 models.")
        return replace(base, name=base.name + MOTION_SUFFIX, memory="motion")
    if name_or_path.startswith(unet_models.PREFIX):
        return _local_spec(unet_models.named_folder(name_or_path, DEFAULT_MODELS_DIR))
    raise ModelUnavailableError(
        f"Unknown model '{name_or_path}': use one of {', '.join(list_models())}, the path of a local SAM2 checkpoint "
        f"(.pt) or folder, or {unet_models.PREFIX}NAME (a U-Net in models/NAME); a SAM2 model may end in "
        f"{MOTION_SUFFIX} (motion-aware memory, e.g. sam2.1-small{MOTION_SUFFIX})."
    )


def display_name(name_or_path: str) -> str:
    """How a model is named to users: registry names as they are, a finetuned folder as "finetuned: <name>",
    another local checkpoint by its name; anything unresolvable as given."""
    if name_or_path in BUILTIN_MODELS:
        return name_or_path
    try:
        spec = get_spec(name_or_path)
    except ModelUnavailableError:
        return name_or_path
    return f"{FINETUNED_PREFIX}{spec.name}" if spec.facts.get("base") else spec.name


DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"  # the repository's models/ folder


def finetuned_folders(models_dir: str | Path) -> list[Path]:
    """Folders directly under `models_dir` holding a finetuned model (model.json beside checkpoint.pt), by name."""
    root = Path(models_dir)
    if not root.is_dir():
        return []
    return sorted(
        folder
        for folder in root.iterdir()
        if folder.is_dir() and (folder / "model.json").is_file() and (folder / CHECKPOINT_FILE_NAMES[0]).is_file()
    )


def _local_spec(path: Path) -> ModelSpec:
    checkpoint = _find_checkpoint(path)
    facts = _read_model_json(checkpoint.parent / "model.json")
    if unet_models.is_unet_folder(facts):
        return unet_models.local_spec(checkpoint, facts, path)
    config = facts.get("config") or _config_from_base(facts.get("base")) or _config_from_file_name(checkpoint.name)
    if config is None:
        raise ModelUnavailableError(
            f'Cannot tell which SAM2 architecture {checkpoint} is: put a model.json with a "config" '
            f"(e.g. {SAM2_CONFIGS['small']}) beside it, or name the file like sam2.1_hiera_small.pt."
        )
    base = BUILTIN_MODELS.get(str(facts.get("base")))
    image_size = int(facts.get("image_size") or (base.image_size if base else 1024))
    # a folder is named after itself (a copied or renamed model folder takes its new name)
    name = path.name if path.is_dir() else (facts.get("name") or checkpoint.stem)
    random_base = bool(facts.get("random_base", base.random_weights if base else False))
    if base is not None and base.synthetic_only:
        facts = {**facts, "synthetic_only": True}
    description = f"local checkpoint {checkpoint}"
    if facts.get("base"):
        stages = ", ".join(facts.get("stages", [])) or "stages not recorded"
        description = f"{name}: {facts['base']} finetuned ({stages})"
    return ModelSpec(
        name=str(name),
        config=str(config),
        image_size=image_size,
        source="local",
        path=str(checkpoint.resolve()),
        description=description,
        facts=facts,
        random_base=random_base,
    )


def _find_checkpoint(path: Path) -> Path:
    if path.is_file():
        return path
    for file_name in CHECKPOINT_FILE_NAMES:
        if (path / file_name).is_file():
            return path / file_name
    candidates = sorted(path.glob("*.pt"))
    if len(candidates) == 1:
        return candidates[0]
    raise ModelUnavailableError(
        f"Model folder {path} holds no single checkpoint: put the weights there as checkpoint.pt."
    )


def _read_model_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        facts = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ModelUnavailableError(f"Cannot read {path}: {error}.") from error
    if not isinstance(facts, dict):
        raise ModelUnavailableError(f"{path} must hold a JSON object.")
    return facts


def _config_from_base(base: object) -> str | None:
    if isinstance(base, str) and base in BUILTIN_MODELS:
        return BUILTIN_MODELS[base].config
    return None


def _config_from_file_name(file_name: str) -> str | None:
    lowered = file_name.lower()
    for hint, size in _SIZE_HINTS:
        if hint in lowered:
            return SAM2_CONFIGS[size]
    return None


def resolve_checkpoint(spec: ModelSpec) -> Path | None:
    """The local checkpoint file for a spec (None for random weights); downloads from the hub when online."""
    if spec.source == RANDOM_WEIGHTS:
        return None
    if spec.source == "local":
        assert spec.path is not None
        return Path(spec.path)
    if spec.source == nano_store.SOURCE:
        try:
            return nano_store.checked_checkpoint(spec.name.removesuffix(MOTION_SUFFIX))
        except nano_store.NanoWeightsError as error:
            raise ModelUnavailableError(str(error)) from error
    return _hub_checkpoint(spec)


def hub_cached(name: str) -> bool:
    """True when a hub model's checkpoint is in the local Hugging Face cache (no network is used)."""
    spec = BUILTIN_MODELS[name]
    if spec.source != "hub":
        return False
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id=str(spec.hf_repo), filename=str(spec.hf_filename))
    return isinstance(found, str)


def hub_reachable(environ: Mapping[str, str], timeout_s: float = 2.0) -> bool:
    """False when HF_HUB_OFFLINE is set or huggingface.co cannot be connected to within `timeout_s`."""
    if environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout_s).close()
    except OSError:
        return False
    return True


def _hub_checkpoint(spec: ModelSpec) -> Path:
    assert spec.hf_repo is not None and spec.hf_filename is not None
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id=spec.hf_repo, filename=spec.hf_filename))
    except Exception as error:  # offline, no network, gated, missing file: all mean "not available here"
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}
        why = "HF_HUB_OFFLINE is set" if offline else f"the Hub could not be reached ({type(error).__name__})"
        raise ModelUnavailableError(
            f"Model {spec.name} needs {spec.hf_filename} from the Hugging Face Hub repo {spec.hf_repo}, which is "
            f"not in the local cache and cannot be downloaded because {why}; download it on a connected machine "
            f"(huggingface-cli download {spec.hf_repo} {spec.hf_filename}) or pass --model /path/to/{spec.hf_filename}."
        ) from error


file_sha256 = nano_store.file_sha256  # the one sha256 of a file, for every checkpoint


@dataclass
class LoadedModel:
    """A built SAM2 video predictor with what run.json must say about it."""

    spec: ModelSpec
    predictor: Any  # sam2.sam2_video_predictor.SAM2VideoPredictor (kept untyped: sam2 imports lazily)
    device: str
    checkpoint: str  # file path, or "random"
    checkpoint_sha256: str  # hex digest, or "random"
    warnings: list[str] = field(default_factory=list)
    compiled: bool = False  # sam2's vos_optimized predictor (torch.compile)

    @property
    def random_weights(self) -> bool:
        return self.spec.random_weights

    def describe(self) -> dict[str, Any]:
        """Facts for run.json."""
        return {
            "model": self.spec.name,
            "config": self.spec.config,
            "image_size": self.spec.image_size,
            "source": self.spec.source,
            "checkpoint": self.checkpoint,
            "checkpoint_sha256": self.checkpoint_sha256,
            "random_weights": self.random_weights,
            "weights": self.spec.weights_label,
            "device": self.device,
            "compiled": self.compiled,
            **({"tracking_memory": self.spec.memory} if self.spec.memory != "sam2" else {}),
            **({"family": self.spec.family} if self.spec.family != "sam2" else {}),
        }


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_video_model(
    name_or_spec: str | ModelSpec, device: str | None = None, compile_model: bool = False
) -> LoadedModel:
    """Build the SAM2 video predictor for a model name / path / spec on a device (default: cuda if available).
    `compile_model`: sam2's `vos_optimized` predictor, every part of the model under torch.compile (CUDA only, not
    on ZeroGPU); the first frames pay for compiling, and each new number of objects tracked together compiles again."""
    spec = get_spec(name_or_spec) if isinstance(name_or_spec, str) else name_or_spec
    device = device or default_device()
    check_device(device)
    if spec.family != "sam2":
        if compile_model:
            raise ModelUnavailableError(f"--compile is offered for SAM2 models only, not {spec.name}: drop --compile.")
        if spec.family == unet_models.FAMILY:
            return unet_models.load_unet_model(spec, device)
        from playerseg.tracking.sam3_model import load_sam3_model

        return load_sam3_model(spec, device)
    if compile_model:
        check_compile(device)
        if is_project_config(spec.config):
            raise ModelUnavailableError(f"--compile is not offered for {spec.name}'s architecture: drop --compile.")
    checkpoint = resolve_checkpoint(spec)  # before building: a missing file should fail fast
    warnings: list[str] = []
    predictor = build_predictor(spec, device, warnings, compile_model)
    if checkpoint is not None:
        load_sam2_weights(predictor, checkpoint, spec)
        sha = file_sha256(checkpoint)
        if spec.random_base:
            warnings.append(f"{spec.name} was {FINETUNED_FROM_RANDOM_LABEL}")
        elif spec.synthetic_only:
            warnings.append(f"{spec.name} was {SYNTHETIC_ONLY_LABEL}: judge it on synthetic clips")
    else:
        sha = RANDOM_WEIGHTS
        warnings.append(f"{spec.name} has {RANDOM_WEIGHTS_LABEL}")
    predictor.to(device)
    predictor.eval()
    install_memory_dtype_fix(predictor)
    return LoadedModel(
        spec=spec,
        predictor=predictor,
        device=device,
        checkpoint=str(checkpoint) if checkpoint else RANDOM_WEIGHTS,
        checkpoint_sha256=sha,
        warnings=warnings,
        compiled=compile_model,
    )


def check_compile(device: str) -> None:
    """Raise ModelUnavailableError (one sentence) where torch.compile of the model is not offered."""
    if not device.startswith("cuda"):
        raise ModelUnavailableError(
            "--compile needs a CUDA GPU (sam2's compiled predictor is built for CUDA): drop --compile on CPU."
        )
    if os.environ.get("SPACES_ZERO_GPU", "").lower() in {"1", "true"}:
        raise ModelUnavailableError(
            "--compile is off on ZeroGPU: the GPU is attached per call, so compiled kernels would not be kept."
        )


def check_device(device: str) -> None:
    """Raise ModelUnavailableError (one sentence) for a device this machine cannot run on."""
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelUnavailableError(
            f"Device {device} was asked for, but no CUDA GPU is available here: use --device cpu."
        )
    if device not in {"cpu"} and not device.startswith("cuda"):
        raise ModelUnavailableError(f"Unsupported device '{device}': use cpu or cuda.")


# SAM 3's specs live with its loading code, which imports this module: registered once this module is complete.
from playerseg.tracking.sam3_model import sam3_specs  # noqa: E402

BUILTIN_MODELS.update((spec.name, spec) for spec in sam3_specs())
