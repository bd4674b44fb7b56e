"""`python -m playerseg.unet train`: the U-Net baseline trained on a small synthetic dataset (real training, a few
steps), its outputs, the trained folder as a contender by path and as unet:NAME, and bad input in one sentence."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from playerseg.__main__ import main as playerseg_main
from playerseg.finetune.losses import bce_loss, dice_loss
from playerseg.tracking import registry
from playerseg.tracking.registry import ModelUnavailableError, display_name, get_spec, load_video_model
from playerseg.unet.__main__ import main
from playerseg.unet.train import targets, unet_loss

ARGS = ["--epochs", "2", "--size", "64", "--depth", "3", "--batch-size", "4", "--quiet"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from playerseg.synthetic.dataset import generate_dataset

    root = tmp_path_factory.mktemp("unet-train") / "data"
    generate_dataset(root, sequences=4, frames=4, players=2, width=160, height=96, seed=3)
    return root


@pytest.fixture(scope="module")
def trained(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "unet-small"
    assert main(["train", "--data", str(data), "--out", str(out), "--synthetic-data", *ARGS]) == 0
    return out


def test_training_writes_a_model_folder_that_says_what_it_is(trained: Path, data: Path) -> None:
    assert sorted(p.name for p in trained.iterdir()) == ["checkpoint.pt", "curves.html", "metrics.csv", "model.json"]
    facts = json.loads((trained / "model.json").read_text())
    assert facts["family"] == "unet" and facts["unet"] == {"base_channels": 8, "depth": 3, "image_size": 64}
    assert facts["synthetic_only"] is True and facts["loss"] == "bce+dice"
    assert facts["data"]["root"] == str(data.resolve())
    split = facts["data"]["split"]
    assert sorted(split["train"] + split["val"]) == ["seq000", "seq001", "seq002", "seq003"]
    assert facts["data"]["frames"] == {"train": 4 * len(split["train"]), "val": 4 * len(split["val"])}
    with open(trained / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2]
    best = max(rows, key=lambda row: (float(row["val_iou"]), -int(row["epoch"])))
    assert facts["best_epoch"] == int(best["epoch"]) and facts["val_iou"] == pytest.approx(
        float(best["val_iou"]), abs=1e-4
    )
    assert "plotly" in (trained / "curves.html").read_text()[:5000].lower()


def test_the_same_seed_trains_the_same_weights(data: Path, trained: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert main(["train", "--data", str(data), "--out", str(again), "--synthetic-data", *ARGS]) == 0
    first = torch.load(trained / "checkpoint.pt", weights_only=True)["model"]
    second = torch.load(again / "checkpoint.pt", weights_only=True)["model"]
    assert first.keys() == second.keys()
    assert all(torch.equal(first[key], second[key]) for key in first)


def test_the_folder_is_a_contender_by_path_and_as_unet_name(
    trained: Path, data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = get_spec(str(trained))
    assert (spec.name, spec.family, spec.image_size, spec.synthetic_only) == ("unet:unet-small", "unet", 64, True)
    monkeypatch.setattr(registry, "DEFAULT_MODELS_DIR", trained.parent)
    assert get_spec("unet:unet-small").path == spec.path
    assert display_name(str(trained)) == "unet:unet-small"
    model = load_video_model("unet:unet-small", "cpu")
    assert any("synthetic" in warning for warning in model.warnings)
    saved = torch.load(trained / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(model.predictor.state_dict()[key], saved[key]) for key in saved)
    run = tmp_path / "run"
    clip, prompts = str(data / "videos" / "seq000.mp4"), str(data / "prompts" / "seq000.json")
    args = ["segment", clip, "--model", "unet:unet-small", "--prompts", prompts, "--out", str(run), "--quiet"]
    assert playerseg_main(args) == 0
    facts = json.loads((run / "run.json").read_text())
    assert (facts["model"], facts["family"], facts["random_weights"]) == ("unet:unet-small", "unet", False)
    assert facts["checkpoint_sha256"] == json.loads((trained / "model.json").read_text())["checkpoint_sha256"]


def test_unknown_and_broken_unet_models_are_one_sentence(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "DEFAULT_MODELS_DIR", tmp_path)
    with pytest.raises(ModelUnavailableError, match="No U-Net model 'nothing-here'.*python -m playerseg.unet train"):
        get_spec("unet:nothing-here")
    with pytest.raises(ModelUnavailableError, match="No U-Net model"):
        get_spec("unet:../etc")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "checkpoint.pt").write_bytes(b"not a checkpoint")
    (broken / "model.json").write_text((trained / "model.json").read_text())
    with pytest.raises(ModelUnavailableError, match="Cannot load the U-Net unet:broken"):
        load_video_model("unet:broken", "cpu")


def test_the_loss_is_bce_plus_dice_over_valid_pixels() -> None:
    labels = torch.tensor([[[0, 1], [2, 255]]], dtype=torch.uint8)
    target, valid = targets(labels)
    assert target.tolist() == [[[0.0, 1.0], [1.0, 0.0]]] and valid.tolist() == [[[True, True], [True, False]]]
    logits = torch.tensor([[[-1.0, 2.0], [0.5, 9.0]]])
    expected = bce_loss(logits, target, valid) + dice_loss(logits, target, valid)
    assert float(unet_loss(logits, labels)) == pytest.approx(float(expected.mean()))
    # by hand: BCE over the three valid pixels, the void pixel's logit 9 ignored
    p = 1 / (1 + np.exp(-np.array([-1.0, 2.0, 0.5])))
    bce = -np.mean([np.log(1 - p[0]), np.log(p[1]), np.log(p[2])])
    dice = 1 - (2 * (p[1] + p[2]) + 1) / (p.sum() + 2 + 1)
    assert float(unet_loss(logits, labels)) == pytest.approx(bce + dice, rel=1e-5)


def test_bad_input_is_one_sentence_and_writes_nothing(
    data: Path, trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m"
    assert main(["train", "--data", str(tmp_path / "missing"), "--out", str(out), *ARGS]) == 2
    assert main(["train", "--data", str(data), "--out", str(out), "--size", "100", "--depth", "3", "--quiet"]) == 2
    assert main(["train", "--data", str(data), "--out", str(out), "--lr", "5", *ARGS]) == 2
    assert main(["train", "--data", str(data), "--out", str(trained), *ARGS]) == 2  # holds a model already
    errors = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(errors) == 4 and all(line.startswith("error: ") for line in errors), errors
    assert "multiple of 8" in errors[1] and "--overwrite" in errors[3]
    assert not out.exists()


def test_finetune_refuses_a_unet_base_in_one_sentence(trained: Path, data: Path, tmp_path: Path) -> None:
    from playerseg.finetune.data import FinetuneError
    from playerseg.finetune.run import FinetuneJob, run_finetune
    from playerseg.finetune.settings import TrainSettings

    job = FinetuneJob(data=str(data), base=str(trained), out=str(tmp_path / "ft"), settings=TrainSettings(epochs=1))
    with pytest.raises(FinetuneError, match="not a SAM2 model.*python -m playerseg.unet train"):
        run_finetune(job, report=lambda _line: None)
