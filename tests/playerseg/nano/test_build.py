"""The nano models' build: deterministic for a seed, kept when up to date, rebuilt with a notice when missing, stale,
partial or edited, and never loaded when its checkpoint is not the one its build recorded.

The build runs the quick recipes (`--fast`: the real recipes' code path, a few steps on tiny data), once per module.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from playerseg.nano.__main__ import main as nano_main
from playerseg.nano.build import build_models, folder_state, model_keys
from playerseg.nano.key import PACKAGE, code_files
from playerseg.tracking import nano_store
from playerseg.tracking.registry import (
    NANO_IMAGE_SIZE,
    SYNTHETIC_ONLY_LABEL,
    ModelUnavailableError,
    get_spec,
    load_video_model,
)

NAMES = list(nano_store.NANO_MODELS)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nano") / "weights"
    lines: list[str] = []
    build_models(NAMES, out, fast=True, report=lines.append)
    assert any("nano-generalist: building (missing" in line for line in lines)
    return out


def _copy(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "weights"
    shutil.copytree(built, copy)
    return copy


def test_a_build_writes_both_models_with_their_facts(built: Path) -> None:
    for name in NAMES:
        facts = json.loads((built / name / "model.json").read_text())
        assert facts["name"] == name and facts["weights"] == SYNTHETIC_ONLY_LABEL
        assert facts["synthetic_only"] and not facts["random_base"]
        assert facts["checkpoint_sha256"] == nano_store.file_sha256(built / name / "checkpoint.pt")
        assert facts["checkpoint_dtype"] == "float16"
        assert facts["build"]["threads"] == 2 and facts["build"]["seconds"] > 0
        assert set(facts["held_out"]) == {"pitch", "generic"}
        assert 0.0 <= facts["held_out"]["pitch"]["JF"] <= 1.0
        assert facts["recipe"]["name"] == name and facts["build_key"] == model_keys(NAMES, fast=True)[name]
        assert (built / name / "metrics.csv").is_file() and (built / name / "curves.html").is_file()
    generic = json.loads((built / "nano-generalist" / "model.json").read_text())
    assert generic["data"]["synthetic"]["mode"] == "generic" and generic["stages"] == ["frames", "clips"]
    assert generic["hyperparameters"]["stage"] == "pretrain"
    pitch = json.loads((built / "nano-pitch" / "model.json").read_text())
    assert pitch["data"]["synthetic"]["mode"] == "pitch"


def test_the_same_seed_builds_the_same_weights(built: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_models(["nano-generalist"], again, fast=True, report=lambda line: None)
    first = json.loads((built / "nano-generalist" / "model.json").read_text())["checkpoint_sha256"]
    assert nano_store.file_sha256(again / "nano-generalist" / "checkpoint.pt") == first


def test_up_to_date_models_are_kept_and_status_says_so(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _copy(built, tmp_path)
    lines: list[str] = []
    result = build_models(NAMES, out, fast=True, report=lines.append)
    assert [model.rebuilt for model in result] == [False, False]
    assert nano_main(["status", "--out", str(out), "--fast"]) == 0
    assert capsys.readouterr().out.count("up to date") == 2


def test_an_edited_checkpoint_is_refused_by_the_loader_and_rebuilt_with_a_notice(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _copy(built, tmp_path)
    monkeypatch.setenv(nano_store.ENV_WEIGHTS_DIR, str(out))
    assert load_video_model("nano-pitch", "cpu").checkpoint_sha256 == nano_store.file_sha256(
        out / "nano-pitch" / "checkpoint.pt"
    )
    checkpoint = out / "nano-pitch" / "checkpoint.pt"
    data = bytearray(checkpoint.read_bytes())
    data[len(data) // 2] ^= 0xFF
    checkpoint.write_bytes(bytes(data))
    with pytest.raises(ModelUnavailableError, match="partial or edited.*make models"):
        load_video_model("nano-pitch", "cpu")
    assert nano_main(["status", "--out", str(out), "--fast"]) == 1
    assert "nano-pitch: corrupted" in capsys.readouterr().out
    lines: list[str] = []
    result = build_models(NAMES, out, fast=True, report=lines.append)
    assert [model.rebuilt for model in result] == [False, True]
    assert any(line.startswith("nano-pitch: building (corrupted") for line in lines)
    assert folder_state(out / "nano-pitch", model_keys(NAMES, fast=True)["nano-pitch"]).status == "up to date"
    load_video_model("nano-pitch", "cpu")


def test_a_missing_or_interrupted_build_is_one_sentence(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _copy(built, tmp_path)
    monkeypatch.setenv(nano_store.ENV_WEIGHTS_DIR, str(out))
    (out / "nano-generalist" / "checkpoint.pt").unlink()
    with pytest.raises(ModelUnavailableError, match="nano-generalist is not built.*make models"):
        load_video_model("nano-generalist", "cpu")
    shutil.rmtree(out / "nano-pitch")
    with pytest.raises(ModelUnavailableError, match="nano-pitch is not built"):
        load_video_model("nano-pitch", "cpu")


def test_a_changed_recipe_makes_the_model_stale(built: Path) -> None:
    generalist_key, pitch_key = model_keys(NAMES, fast=True).values()
    assert folder_state(built / "nano-pitch", "another key").status == "stale"
    assert generalist_key != pitch_key and model_keys(NAMES)["nano-pitch"] != pitch_key


def test_the_key_follows_the_code_that_makes_the_weights_not_the_command_lines() -> None:
    names = {path.relative_to(PACKAGE).as_posix() for path in code_files()}
    assert {"finetune/trainer.py", "finetune/losses.py", "synthetic/generic.py", "nano/build.py"} <= names
    assert "tracking/configs/sam2.1_hiera_nano.yaml" in names
    assert not any(name.endswith("__main__.py") for name in names) and "nano/key.py" not in names


def test_the_registry_names_say_what_the_models_are() -> None:
    for name in NAMES:
        spec = get_spec(name)
        assert spec.image_size == NANO_IMAGE_SIZE and spec.config == "playerseg:sam2.1_hiera_nano.yaml"
        assert spec.synthetic_only and not spec.random_weights
        assert spec.weights_label == SYNTHETIC_ONLY_LABEL
        assert "synthetic" in spec.description
    untrained = get_spec("random-sam2.1-nano")
    assert untrained.random_weights and untrained.config == get_spec("nano-pitch").config


def test_compile_is_refused_for_the_nano_architecture_in_one_sentence() -> None:
    with pytest.raises(ModelUnavailableError):
        load_video_model("random-sam2.1-nano", "cpu", compile_model=True)
