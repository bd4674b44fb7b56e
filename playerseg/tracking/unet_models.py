"""U-Net baseline models by name, and loading one.

`unet:NAME` is the model folder models/NAME written by `python -m playerseg.unet train --out models/NAME`
(checkpoint.pt + model.json with `"family": "unet"`); any folder whose model.json says so works by its path too.
`test-unet` is the architecture at a small input with fixed-seed random weights, for tests (its masks mean nothing).
The architecture's settings travel in model.json (`"unet": {"base_channels", "depth", "image_size"}`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from playerseg.tracking.nano_store import file_sha256

if TYPE_CHECKING:
    from playerseg.tracking.registry import LoadedModel, ModelSpec

FAMILY = "unet"
PREFIX = "unet:"
CONFIG_NAME = "unet"  # ModelSpec.config of every U-Net (the architecture's settings are in ModelSpec.facts)
TEST_NAME = "test-unet"
TEST_SETTINGS = {"base_channels": 8, "depth": 3, "image_size": 128}


def test_spec() -> ModelSpec:
    from playerseg.tracking.registry import RANDOM_WEIGHTS, RANDOM_WEIGHTS_LABEL, TEST_MODEL_SEED, ModelSpec

    return ModelSpec(
        name=TEST_NAME,
        config=CONFIG_NAME,
        image_size=TEST_SETTINGS["image_size"],
        source=RANDOM_WEIGHTS,
        seed=TEST_MODEL_SEED,
        description=f"the U-Net baseline at {TEST_SETTINGS['image_size']} px, {RANDOM_WEIGHTS_LABEL}",
        facts={"family": FAMILY, "unet": dict(TEST_SETTINGS)},
        family=FAMILY,
    )


def is_unet_folder(facts: dict[str, Any]) -> bool:
    """True for a model.json written by the U-Net training."""
    return facts.get("family") == FAMILY


def named_folder(name: str, models_dir: Path) -> Path:
    """The folder `unet:NAME` stands for; ModelUnavailableError (one sentence) when it holds no U-Net."""
    from playerseg.tracking.registry import ModelUnavailableError

    folder_name = name.removeprefix(PREFIX)
    folder = models_dir / folder_name
    if not folder_name or Path(folder_name).name != folder_name or not (folder / "model.json").is_file():
        raise ModelUnavailableError(
            f"No U-Net model '{folder_name}' in {models_dir}: train one with "
            f"python -m playerseg.unet train --data ROOT --out {models_dir / (Path(folder_name).name or 'NAME')}."
        )
    return folder


def local_spec(checkpoint: Path, facts: dict[str, Any], path: Path) -> ModelSpec:
    """The spec of a trained U-Net folder or checkpoint (its model.json read by the registry), named unet:FOLDER."""
    from playerseg.tracking.registry import ModelSpec, ModelUnavailableError

    name = PREFIX + (path.name if path.is_dir() else checkpoint.parent.name)
    try:
        settings = _settings(facts)
    except ValueError as error:
        where = checkpoint.parent / "model.json"
        raise ModelUnavailableError(f"{where} has unusable U-Net settings: {error}") from None
    return ModelSpec(
        name=name,
        config=CONFIG_NAME,
        image_size=settings.image_size,
        source="local",
        path=str(checkpoint.resolve()),
        description=f"{name}: U-Net baseline trained on {facts.get('data', 'unrecorded data')}",
        facts=facts,
        family=FAMILY,
    )


def _settings(facts: dict[str, Any]) -> Any:
    from playerseg.tracking.unet_net import UNetConfig

    settings = facts.get("unet")
    if not isinstance(settings, dict):
        raise ValueError('it needs "unet": {"base_channels", "depth", "image_size"}.')
    return UNetConfig.from_dict(settings)


def load_unet_model(spec: ModelSpec, device: str) -> LoadedModel:
    """Build the U-Net of a spec on a device: random weights under the spec's seed, or the folder's checkpoint."""
    from playerseg.tracking.registry import RANDOM_WEIGHTS, RANDOM_WEIGHTS_LABEL, LoadedModel, ModelUnavailableError
    from playerseg.tracking.unet_net import build_unet

    if spec.memory != "sam2":
        raise ModelUnavailableError(
            f"{spec.name} is a U-Net: it has no memory to make motion-aware; drop the +motion suffix."
        )
    net = build_unet(_settings(spec.facts), spec.seed if spec.seed is not None else 0)
    warnings: list[str] = []
    if spec.source == RANDOM_WEIGHTS:
        checkpoint, sha = RANDOM_WEIGHTS, RANDOM_WEIGHTS
        warnings.append(f"{spec.name} has {RANDOM_WEIGHTS_LABEL}")
    else:
        assert spec.path is not None
        checkpoint, sha = spec.path, file_sha256(Path(spec.path))
        _load_weights(net, Path(spec.path), spec.name)
        if spec.facts.get("synthetic_only"):
            warnings.append(f"{spec.name} was trained on synthetic footage only: judge it on synthetic clips")
    net.to(device).eval()
    return LoadedModel(
        spec=spec, predictor=net, device=device, checkpoint=checkpoint, checkpoint_sha256=sha, warnings=warnings
    )


def _load_weights(net: Any, checkpoint: Path, name: str) -> None:
    import torch

    from playerseg.tracking.registry import ModelUnavailableError

    try:
        payload = torch.load(checkpoint, map_location="cpu", weights_only=True)
        state = payload["model"]
        net.load_state_dict(state)
    except Exception as error:  # unreadable file, not our format, another architecture: one sentence each way
        raise ModelUnavailableError(
            f"Cannot load the U-Net {name} from {checkpoint}: {type(error).__name__}: {str(error).splitlines()[0]}."
        ) from None
