"""The committed nano models: they load (sha256 checked), say everywhere what they are, and segment synthetic pitch
players from one click; the specialist beats the generalist on a held-out pitch clip (seeds no build used).
Figures over more clips: benchmarks/nano_models.py, in benchmarks/RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playerseg.finetune.data import load_training_root
from playerseg.finetune.validate import ValidationResult, validate
from playerseg.runs.facts import ModelFacts
from playerseg.runs.runfolder import weights_caption
from playerseg.synthetic.dataset import generate_dataset
from playerseg.tracking import nano_store
from playerseg.tracking.registry import SYNTHETIC_ONLY_LABEL, get_spec, load_video_model

HELD_OUT_SEED = 9301  # neither a training, validation nor benchmark seed


@pytest.fixture(scope="module")
def pitch_scores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ValidationResult]:
    root = tmp_path_factory.mktemp("held-out-pitch")
    generate_dataset(root, sequences=1, frames=16, players=4, seed=HELD_OUT_SEED)
    sequences = load_training_root(root)
    return {
        name: validate(load_video_model(name, "cpu"), sequences, sorted(sequences), "click")
        for name in nano_store.NANO_MODELS
    }


def test_the_committed_weights_are_the_ones_their_build_recorded() -> None:
    for name in nano_store.NANO_MODELS:
        facts = nano_store.read_facts(name)
        checkpoint = nano_store.checked_checkpoint(name)
        assert facts["checkpoint_sha256"] == nano_store.file_sha256(checkpoint)
        assert checkpoint.stat().st_size < 12 * 2**20  # fp16: the two stay far under 25 MB together
        assert facts["weights"] == SYNTHETIC_ONLY_LABEL and facts["synthetic_only"]
        assert {"held_out", "recipe", "build_key", "build", "hyperparameters"} <= set(facts)


def test_a_nano_model_says_it_was_trained_on_synthetic_footage_only() -> None:
    model = load_video_model("nano-pitch", "cpu")
    described = model.describe()
    assert described["weights"] == SYNTHETIC_ONLY_LABEL and not described["random_weights"]
    assert any("synthetic footage only" in warning for warning in model.warnings)
    assert weights_caption(ModelFacts.of(model)) == "nano-pitch: trained on synthetic footage only"


def test_a_model_finetuned_from_a_nano_model_stays_synthetic_only(tmp_path: Path) -> None:
    folder = tmp_path / "my-team"
    folder.mkdir()
    (folder / "checkpoint.pt").write_bytes(nano_store.checked_checkpoint("nano-pitch").read_bytes())
    (folder / "model.json").write_text(json.dumps({"base": "nano-pitch", "stages": ["frames"]}))
    spec = get_spec(str(folder))
    assert spec.synthetic_only and spec.weights_label == SYNTHETIC_ONLY_LABEL
    assert spec.image_size == 256 and spec.config == get_spec("nano-pitch").config


def test_the_specialist_segments_held_out_pitch_players_better_than_the_generalist(
    pitch_scores: dict[str, ValidationResult],
) -> None:
    generalist, specialist = pitch_scores["nano-generalist"], pitch_scores["nano-pitch"]
    assert specialist.objects == generalist.objects == 4
    assert specialist.JF > generalist.JF
    assert specialist.frame_JF > generalist.frame_JF
