from __future__ import annotations

import pytest

from playerseg.ui.config import DEFAULT_MODELS, AppConfig, ConfigError


def test_defaults_compare_the_autolabeler_with_small() -> None:
    config = AppConfig.from_env({})
    assert config.models == DEFAULT_MODELS
    assert config.default_pair() == ("autolabel:grounding-dino-tiny+sam2.1-large", "sam2.1-small")


def test_a_checkpoint_in_the_list_is_the_finetuned_model_b() -> None:
    config = AppConfig.from_env({"PLAYERSEG_MODELS": "sam2.1-large, sam2.1-small, /ckpt/players.pt"})
    assert config.finetuned == ("/ckpt/players.pt",)
    assert config.default_pair() == ("sam2.1-large", "/ckpt/players.pt")
    with_autolabeler = AppConfig.from_env({"PLAYERSEG_MODELS": "autolabel:test-gdino-tiny+sam2.1-large,/ckpt/players.pt"})
    assert with_autolabeler.finetuned == ("/ckpt/players.pt",)
    assert with_autolabeler.default_pair() == ("autolabel:test-gdino-tiny+sam2.1-large", "/ckpt/players.pt")


def test_test_models_list_pairs_the_first_two() -> None:
    config = AppConfig.from_env({"PLAYERSEG_MODELS": "test-sam2.1-tiny-128,test-sam2.1-tiny-256"})
    assert config.default_pair() == ("test-sam2.1-tiny-128", "test-sam2.1-tiny-256")
    single = AppConfig.from_env({"PLAYERSEG_MODELS": "test-sam2.1-tiny-128"})
    assert single.default_pair() == ("test-sam2.1-tiny-128", "test-sam2.1-tiny-128")


def test_limits_from_env_and_bad_values() -> None:
    config = AppConfig.from_env({"PLAYERSEG_MAX_FRAMES": "50", "PLAYERSEG_MAX_SIDE": "640"})
    assert (config.max_frames, config.max_side) == (50, 640)
    with pytest.raises(ConfigError, match="PLAYERSEG_MAX_FRAMES must be a whole number"):
        AppConfig.from_env({"PLAYERSEG_MAX_FRAMES": "many"})
    with pytest.raises(ConfigError, match="at least 1"):
        AppConfig.from_env({"PLAYERSEG_GPU_CONCURRENCY": "0"})
