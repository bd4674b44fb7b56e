from __future__ import annotations

from pathlib import Path

import pytest

from playerseg.ui.config import DEFAULT_MODELS, AppConfig, ConfigError


def _online(env: object) -> bool:
    return True


def _offline(env: object) -> bool:
    return False


def test_defaults_compare_the_autolabeler_with_small() -> None:
    config = AppConfig.from_env({}, hub_probe=_online)
    assert config.models == DEFAULT_MODELS
    assert not config.hub_offline
    assert config.default_pair() == ("autolabel:grounding-dino-tiny+sam2.1-large", "sam2.1-small")


def test_offline_without_hub_weights_the_default_pair_is_the_models_trained_here() -> None:
    config = AppConfig.from_env({}, hub_probe=_offline)
    assert config.hub_offline
    assert config.default_pair() == ("nano-generalist", "nano-pitch")
    assert "sam2.1-large" in config.models  # still offered: a user who adds the weights can pick them


def test_hf_hub_offline_counts_as_unreachable_without_probing() -> None:
    def probe_fails(env: object) -> bool:
        raise AssertionError("HF_HUB_OFFLINE=1 must not try the network")

    from playerseg.tracking.registry import hub_reachable

    assert not hub_reachable({"HF_HUB_OFFLINE": "1"})
    config = AppConfig.from_env({"HF_HUB_OFFLINE": "1"}, hub_probe=hub_reachable)
    assert config.default_pair() == ("nano-generalist", "nano-pitch")
    assert AppConfig.from_env(
        {"PLAYERSEG_MODELS": "sam2.1-large,sam2.1-small"}, hub_probe=probe_fails
    ).default_pair() == (
        "sam2.1-large",
        "sam2.1-small",
    )  # without the nano models offered, nothing is probed and the pair is as configured


def test_without_usable_nano_weights_the_offline_default_stays_the_hub_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYERSEG_NANO_WEIGHTS", str(tmp_path))  # nothing built there
    config = AppConfig.from_env({}, hub_probe=_offline)
    assert not config.hub_offline
    assert config.default_pair() == ("autolabel:grounding-dino-tiny+sam2.1-large", "sam2.1-small")


def test_a_cached_hub_model_keeps_the_hub_defaults_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import playerseg.ui.config as config_module

    monkeypatch.setattr(config_module, "hub_cached", lambda name: name == "sam2.1-large")
    config = AppConfig.from_env({}, hub_probe=_offline)
    assert not config.hub_offline
    assert config.default_pair() == ("autolabel:grounding-dino-tiny+sam2.1-large", "sam2.1-small")


def test_a_checkpoint_in_the_list_is_the_finetuned_model_b() -> None:
    config = AppConfig.from_env({"PLAYERSEG_MODELS": "sam2.1-large, sam2.1-small, /ckpt/players.pt"})
    assert config.finetuned == ("/ckpt/players.pt",)
    assert config.default_pair() == ("sam2.1-large", "/ckpt/players.pt")
    with_autolabeler = AppConfig.from_env(
        {"PLAYERSEG_MODELS": "autolabel:test-gdino-tiny+sam2.1-large,/ckpt/players.pt"}
    )
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


def test_finetuned_folders_in_the_models_dir_are_offered(tmp_path) -> None:
    import json

    import torch

    from playerseg.tracking.registry import load_video_model
    from playerseg.ui.compare_tab import models_facts

    team = tmp_path / "team"
    team.mkdir()
    torch.save(
        {"model": load_video_model("test-sam2.1-tiny-128", "cpu").predictor.state_dict()}, team / "checkpoint.pt"
    )
    facts = {
        "base": "test-sam2.1-tiny-128",
        "stages": ["frames", "clips"],
        "random_base": True,
        "data": {"split": {"train": ["a", "b", "c"], "val": ["d"]}},
        "created": "2026-11-23T10:00:00+00:00",
        "val_before": {"JF": 0.015, "consecutive_iou": 0.5},
        "val_after": {"JF": 0.108, "consecutive_iou": 0.6},
    }
    (team / "model.json").write_text(json.dumps(facts))
    config = AppConfig.from_env(
        {"PLAYERSEG_MODELS": "sam2.1-large,sam2.1-small", "PLAYERSEG_MODELS_DIR": str(tmp_path)}
    )
    assert config.models == ("sam2.1-large", "sam2.1-small", str(team))
    assert config.default_pair() == ("sam2.1-large", str(team))  # the finetuned model is B
    text = models_facts("sam2.1-large", str(team))
    assert text.startswith("**Model B, finetuned: team**")
    for part in (
        "test-sam2.1-tiny-128 finetuned (frames + clips)",
        "on 3 sequences",
        "0.015 → 0.108",
        "consecutive IoU 0.500 → 0.600",
        "random weights",
        "2026-11-23",
    ):
        assert part in text
    assert models_facts("sam2.1-large", "sam2.1-small") == ""
