"""Model names, test-size models with fixed random weights, local checkpoints, and the offline error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from playerseg.tracking.registry import (
    RANDOM_WEIGHTS,
    SAM2_CONFIGS,
    ModelUnavailableError,
    check_compile,
    file_sha256,
    get_spec,
    list_models,
    load_video_model,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_builtin_names_cover_hub_sizes_and_test_models() -> None:
    names = list_models()
    for name in ["sam2.1-tiny", "sam2.1-small", "sam2.1-base-plus", "sam2.1-large"]:
        spec = get_spec(name)
        assert name in names
        assert spec.source == "hub" and spec.image_size == 1024
        assert spec.hf_repo == f"facebook/sam2.1-hiera-{name.split('-', 1)[1]}"
    small = get_spec("test-sam2.1-tiny-128")
    assert small.random_weights and small.image_size == 128
    assert get_spec("test-sam2.1-tiny-256").image_size == 256


def test_unknown_name_is_one_clear_sentence() -> None:
    with pytest.raises(ModelUnavailableError, match="Unknown model 'sam3-huge'"):
        get_spec("sam3-huge")


def test_test_model_has_the_same_random_weights_every_time_and_says_so() -> None:
    torch.manual_seed(123)
    first = load_video_model("test-sam2.1-tiny-128", "cpu")
    caller_rng_after_first = torch.rand(1)
    second = load_video_model("test-sam2.1-tiny-128", "cpu")
    for (key, a), (_, b) in zip(first.predictor.state_dict().items(), second.predictor.state_dict().items()):
        assert torch.equal(a, b), key
    assert first.predictor.image_size == 128
    facts = first.describe()
    assert facts["random_weights"] is True
    assert facts["checkpoint"] == RANDOM_WEIGHTS and facts["checkpoint_sha256"] == RANDOM_WEIGHTS
    assert "random weights" in facts["weights"]
    # building must not consume the caller's random stream
    torch.manual_seed(123)
    assert torch.equal(torch.rand(1), caller_rng_after_first)


def _save_checkpoint(model_dir: Path, state_dict: dict, config: str = SAM2_CONFIGS["tiny"]) -> Path:
    model_dir.mkdir(parents=True)
    checkpoint = model_dir / "checkpoint.pt"
    torch.save({"model": state_dict}, checkpoint)
    (model_dir / "model.json").write_text(json.dumps({"config": config, "image_size": 128}))
    return checkpoint


def test_local_checkpoint_folder_loads_its_weights_and_records_sha256(tmp_path: Path) -> None:
    reference = load_video_model("test-sam2.1-tiny-128", "cpu").predictor.state_dict()
    changed = {key: value.clone() for key, value in reference.items()}
    first_key = next(key for key, value in changed.items() if value.is_floating_point())
    changed[first_key] += 1.0
    checkpoint = _save_checkpoint(tmp_path / "my-finetune", changed)

    loaded = load_video_model(str(tmp_path / "my-finetune"), "cpu")

    assert loaded.spec.source == "local" and loaded.spec.name == "my-finetune"
    assert torch.equal(loaded.predictor.state_dict()[first_key], changed[first_key])
    assert loaded.checkpoint_sha256 == file_sha256(checkpoint)
    assert loaded.describe()["random_weights"] is False


def test_checkpoint_of_the_wrong_size_is_a_clear_error(tmp_path: Path) -> None:
    state_dict = load_video_model("test-sam2.1-tiny-128", "cpu").predictor.state_dict()
    _save_checkpoint(tmp_path / "wrong", state_dict, config=SAM2_CONFIGS["small"])  # tiny weights, small config
    with pytest.raises(ModelUnavailableError, match="does not fit"):
        load_video_model(str(tmp_path / "wrong"), "cpu")


def test_file_that_is_not_a_sam2_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "sam2.1_hiera_tiny.pt"
    torch.save({"weights": {}}, bogus)
    with pytest.raises(ModelUnavailableError, match="not in sam2's format"):
        load_video_model(str(bogus), "cpu")


def test_local_checkpoint_without_a_config_hint_asks_for_one(tmp_path: Path) -> None:
    anonymous = tmp_path / "weights.pt"
    torch.save({"model": {}}, anonymous)
    with pytest.raises(ModelUnavailableError, match="model.json"):
        get_spec(str(anonymous))


def test_offline_hub_model_fails_with_one_sentence_naming_model_and_file(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    code = "from playerseg.tracking.registry import load_video_model; load_video_model('sam2.1-large', 'cpu')"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode != 0
    assert "ModelUnavailableError" in proc.stderr
    message = proc.stderr.strip().splitlines()[-1]
    assert "sam2.1-large" in message and "sam2.1_hiera_large.pt" in message
    assert "facebook/sam2.1-hiera-large" in message and "--model" in message


def _finetuned_folder(folder: Path, facts: dict) -> Path:
    folder.mkdir(parents=True)
    weights = load_video_model("test-sam2.1-tiny-128", "cpu").predictor.state_dict()
    torch.save({"model": weights}, folder / "checkpoint.pt")
    (folder / "model.json").write_text(json.dumps(facts))
    return folder


def test_a_finetuned_folder_is_named_and_labelled_from_its_model_json(tmp_path: Path) -> None:
    from playerseg.tracking.registry import FINETUNED_FROM_RANDOM_LABEL, display_name, finetuned_folders

    team = _finetuned_folder(tmp_path / "models" / "team", {"base": "test-sam2.1-tiny-128", "stages": ["frames"]})
    spec = get_spec(str(team))
    # architecture and size come from the base's registry entry; trained from random weights, it says so
    assert spec.config == SAM2_CONFIGS["tiny"] and spec.image_size == 128
    assert spec.random_weights and spec.weights_label == FINETUNED_FROM_RANDOM_LABEL
    assert display_name(str(team)) == "finetuned: team" and display_name("sam2.1-small") == "sam2.1-small"
    assert display_name("/no/such/model.pt") == "/no/such/model.pt"
    loaded = load_video_model(str(team), "cpu")
    assert loaded.checkpoint_sha256 != RANDOM_WEIGHTS  # real weights from the file, not re-initialised
    assert loaded.describe()["weights"] == FINETUNED_FROM_RANDOM_LABEL
    assert any(FINETUNED_FROM_RANDOM_LABEL in warning for warning in loaded.warnings)

    (tmp_path / "models" / "unfinished").mkdir()
    (tmp_path / "models" / "unfinished" / "model.json").write_text("{}")  # no checkpoint yet: not offered
    assert finetuned_folders(tmp_path / "models") == [team]
    assert finetuned_folders(tmp_path / "absent") == []


def test_benchmark_models_are_each_size_at_1024_with_random_weights() -> None:
    for size in ["tiny", "small", "base-plus", "large"]:
        spec = get_spec(f"random-sam2.1-{size}")
        assert spec.name in list_models()
        assert spec.config == get_spec(f"sam2.1-{size}").config and spec.image_size == 1024
        assert spec.random_weights and "random weights" in spec.weights_label
    model = load_video_model("random-sam2.1-tiny", "cpu")
    assert model.predictor.image_size == 1024
    assert model.describe()["random_weights"] and any("random weights" in w for w in model.warnings)


def test_compile_is_refused_on_cpu_and_on_zero_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelUnavailableError, match="--compile needs a CUDA GPU"):
        load_video_model("test-sam2.1-tiny-128", "cpu", compile_model=True)
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    with pytest.raises(ModelUnavailableError, match="off on ZeroGPU"):
        check_compile("cuda")


def test_any_model_name_or_folder_takes_the_motion_suffix(tmp_path: Path) -> None:
    from dataclasses import replace

    from playerseg.runs.facts import ModelFacts
    from playerseg.tracking.registry import display_name, resolve_checkpoint

    small = get_spec("sam2.1-small+motion")
    assert small == replace(get_spec("sam2.1-small"), name="sam2.1-small+motion", memory="motion")
    assert get_spec("sam2.1-small").memory == "sam2" and display_name("sam2.1-small+motion") == "sam2.1-small+motion"
    nano = get_spec("nano-pitch+motion")  # the weights are nano-pitch's, checked by their sha256
    assert resolve_checkpoint(nano) == resolve_checkpoint(get_spec("nano-pitch"))
    team = _finetuned_folder(tmp_path / "models" / "team", {"base": "test-sam2.1-tiny-128", "stages": ["frames"]})
    assert display_name(f"{team}+motion") == "finetuned: team+motion"
    with pytest.raises(ModelUnavailableError, match=r"Unknown model 'sam3-huge'.*\+motion"):
        get_spec("sam3-huge+motion")
    with pytest.raises(ModelUnavailableError):
        get_spec("+motion")
    described = load_video_model("test-sam2.1-tiny-128+motion", "cpu").describe()
    assert described["tracking_memory"] == "motion" and ModelFacts.from_json(described).to_json() == described
