"""SAM2 architectures the project ships as hydra yaml files in configs/ (the nano one trained here), and their builder.

sam2 composes its own configs through the Hydra instance it initialises on import (config names such as
`configs/sam2.1/sam2.1_hiera_t.yaml`). A project config is named `playerseg:<file>.yaml`; it is composed here the
way sam2's `build_sam2_video_predictor` composes its own (the yaml, then the `++key=value` overrides), without
touching sam2's global Hydra instance, and instantiated by the same `hydra.utils.instantiate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PROJECT_PREFIX = "playerseg:"
NANO_CONFIG = f"{PROJECT_PREFIX}sam2.1_hiera_nano.yaml"
CONFIG_DIR = Path(__file__).resolve().parent / "configs"
VIDEO_PREDICTOR = "sam2.sam2_video_predictor.SAM2VideoPredictor"


def is_project_config(config: str) -> bool:
    return config.startswith(PROJECT_PREFIX)


def config_path(config: str) -> Path:
    """The yaml file of a project config name (`playerseg:<file>.yaml`)."""
    path = CONFIG_DIR / config[len(PROJECT_PREFIX) :]
    if not is_project_config(config) or path.parent != CONFIG_DIR or not path.is_file():
        raise FileNotFoundError(f"No project SAM2 config {config!r} in {CONFIG_DIR}.")
    return path


def compose(config: str, overrides: list[str]) -> Any:
    """The OmegaConf config of a project config name with hydra-style `++key=value` overrides applied."""
    import yaml
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(config_path(config))
    for override in overrides:
        key, _, value = override.lstrip("+").partition("=")
        OmegaConf.update(cfg, key, yaml.safe_load(value), force_add=True)
    OmegaConf.resolve(cfg)
    return cfg


def build_video_predictor(config: str, overrides: list[str]) -> Any:
    """sam2's SAM2VideoPredictor built from a project config on the CPU, in eval mode, with its initial weights."""
    from hydra.utils import instantiate

    cfg = compose(config, [f"++model._target_={VIDEO_PREDICTOR}", *overrides])
    model = instantiate(cfg.model, _recursive_=True)
    model.eval()
    return model
