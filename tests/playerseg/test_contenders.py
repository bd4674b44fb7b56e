"""The other families in every comparison: SAM 3's tracker (test-sam3: the real Sam3TrackerVideo architecture at
toy sizes, random weights) through segment, compare and evaluate; what only SAM2 can do refused in one sentence for
the U-Net and SAM 3 (auto-labeler tracker, mask preview, --compile, +motion); the app offering a U-Net folder
without taking it for the finetuned model; `sam3` offline in one sentence."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from playerseg.__main__ import main
from playerseg.errors import PlayerSegError
from playerseg.tracking.registry import ModelUnavailableError, get_spec, load_video_model
from playerseg.tracking.unet_net import parameter_count

SAM3 = "test-sam3"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from playerseg.synthetic.dataset import generate_dataset

    root = tmp_path_factory.mktemp("contenders") / "data"
    generate_dataset(root, sequences=1, frames=6, players=2, width=160, height=96, seed=5)
    return root


def test_test_sam3_through_segment_compare_and_evaluate(clip: Path, tmp_path: Path) -> None:
    video, prompts = str(clip / "videos" / "seq000.mp4"), str(clip / "prompts" / "seq000.json")
    run = tmp_path / "run"
    assert main(["segment", video, "--model", SAM3, "--prompts", prompts, "--out", str(run), "--quiet"]) == 0
    facts = json.loads((run / "run.json").read_text())
    assert (facts["model"], facts["family"], facts["random_weights"]) == (SAM3, "sam3", True)
    assert len(list((run / "masks").glob("*.png"))) == 6
    compared = tmp_path / "compare"
    code = main(["compare", video, "--prompts", prompts, "--model-a", "test-sam2.1-tiny-128", "--model-b", SAM3,
                 "--out", str(compared), "--quiet"])  # fmt: skip
    assert code == 0
    summary = json.loads((compared / "summary.json").read_text())
    assert summary["models"]["B"]["name"] == SAM3
    out = tmp_path / "evaluate"
    code = main(["evaluate", "--data", str(clip), "--models", f"{SAM3},test-unet", "--out", str(out), "--quiet",
                 "--device", "cpu"])  # fmt: skip
    assert code == 0
    with open(out / "leaderboard.csv", newline="") as handle:
        assert {row["model"] for row in csv.DictReader(handle)} == {SAM3, "test-unet"}
    with open(out / "models.csv", newline="") as handle:
        parameters = {row["model"]: int(row["parameters"]) for row in csv.DictReader(handle)}
    sam3, unet = load_video_model(SAM3, "cpu").predictor.model, load_video_model("test-unet", "cpu").predictor
    assert parameters == {SAM3: sum(p.numel() for p in sam3.parameters()), "test-unet": parameter_count(unet)}


@pytest.mark.parametrize("name", ["test-unet", SAM3])
def test_what_only_sam2_does_is_refused_in_one_sentence(name: str) -> None:
    from playerseg.annotate.preview import MaskPreview, PreviewError
    from playerseg.autolabel.labeler import AutoLabeler, AutoLabelSettings

    model = load_video_model(name, "cpu")
    with pytest.raises(PlayerSegError, match="auto-labeler's tracker needs a SAM2 model"):
        AutoLabeler(model, source=None, settings=AutoLabelSettings())  # type: ignore[arg-type]
    with pytest.raises(PreviewError, match="mask preview needs a SAM2 model"):
        MaskPreview(model)
    with pytest.raises(ModelUnavailableError, match="--compile is offered for SAM2 models only"):
        load_video_model(name, "cpu", compile_model=True)
    with pytest.raises(ModelUnavailableError, match="no memory to make motion-aware"):
        get_spec(name + "+motion")


def test_autolabel_with_a_unet_tracker_is_one_sentence(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    detections = tmp_path / "detections.json"
    detections.write_text(json.dumps({"frames": {"0": []}}))
    video = str(clip / "videos" / "seq000.mp4")
    code = main(["autolabel", video, "--out", str(tmp_path / "a"), "--tracker", "test-unet", "--detections",
                 str(detections), "--quiet"])  # fmt: skip
    assert code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(errors) == 1 and "needs a SAM2 model" in errors[0], errors


def test_sam3_offline_is_one_sentence(clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    video, prompts = str(clip / "videos" / "seq000.mp4"), str(clip / "prompts" / "seq000.json")
    assert main(["segment", video, "--model", "sam3", "--prompts", prompts, "--out", str(tmp_path / "r")]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "facebook/sam3" in errors[0] and "HF_TOKEN" in errors[0], errors


def test_the_app_offers_a_unet_folder_but_not_as_the_finetuned_model(tmp_path: Path) -> None:
    from playerseg.ui.compare_tab import models_facts
    from playerseg.ui.config import AppConfig
    from playerseg.unet.__main__ import main as unet_main

    data = tmp_path / "data"
    from playerseg.synthetic.dataset import generate_dataset

    generate_dataset(data, sequences=2, frames=3, players=2, width=96, height=64, seed=2)
    models = tmp_path / "models"
    args = ["train", "--data", str(data), "--out", str(models / "baseline"), "--epochs", "1", "--size", "32"]
    assert unet_main([*args, "--depth", "2", "--quiet", "--synthetic-data"]) == 0
    config = AppConfig.from_env({"PLAYERSEG_MODELS": "sam2.1-large,sam2.1-small", "PLAYERSEG_MODELS_DIR": str(models)})
    assert config.models == ("sam2.1-large", "sam2.1-small", str(models / "baseline"))
    assert config.finetuned == ()
    assert config.default_pair() == ("sam2.1-large", "sam2.1-small")
    text = models_facts(str(models / "baseline"), None)
    assert text.startswith("**Model A, unet:baseline**: U-Net baseline (") and "trained on 1 sequence," in text
    assert "synthetic" in text
    shutil.rmtree(models)
