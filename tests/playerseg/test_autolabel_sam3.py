"""The SAM 3 auto-labeler (`autolabel:sam3`, `autolabel:test-sam3`): the streaming session equals transformers' own
loop, the CLI, compare and evaluate run it, the player filter drops non-players, memory stays flat, names and errors
are one sentence. The test model has random weights: its objects mean nothing, so the pipeline's decisions are
checked on objects handed to it (a monkeypatched session)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from playerseg.__main__ import main
from playerseg.autolabel.labeler import AutoLabelerName, is_sam3_detector, parse_autolabel_name
from playerseg.autolabel.sam3_labeler import Sam3AutoLabeler
from playerseg.io.video import FrameStore
from playerseg.tracking.registry import ModelUnavailableError
from playerseg.tracking.sam3_video import (
    Sam3Frame,
    Sam3Thresholds,
    Sam3VideoStream,
    load_sam3_video_model,
    sam3_phrases,
    sam3_video_spec,
    tiny_clip_tokenizer,
)
from playerseg.tracking.step import FrameResult


@pytest.fixture(scope="module")
def model():
    return load_sam3_video_model("test-sam3", "cpu")


def _dataset(root: Path, frames: int, players: int = 2, seed: int = 5) -> Path:
    from playerseg.synthetic.dataset import generate_dataset

    generate_dataset(root, sequences=1, frames=frames, players=players, width=160, height=96, seed=seed)
    return root


@pytest.fixture(scope="module")
def six(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _dataset(tmp_path_factory.mktemp("sam3-six") / "data", 6)


def _stock(model, frames: list[np.ndarray], text: str) -> dict[int, tuple[list[int], np.ndarray, list[float]]]:
    """transformers' own loop on the whole clip: init_video_session + propagate_in_video_iterator + postprocess."""
    processor, sam3 = model.predictor.processor, model.predictor.model
    session = processor.init_video_session(video=frames, inference_device="cpu")
    processor.add_text_prompt(session, text)
    out = {}
    for output in sam3.propagate_in_video_iterator(inference_session=session):
        processed = processor.postprocess_outputs(session, output)
        ids = processed["object_ids"].tolist()
        out[output.frame_idx] = (ids, processed["masks"].numpy(), processed["scores"].tolist())
    return out


def test_streaming_session_equals_transformers_stock_loop(model, tmp_path: Path) -> None:
    """Same text, same frames: on every frame the same SAM 3 objects with the same masks and scores, though the
    session reads frames one at a time and forgets what the model will not read again. 24 frames run past the
    tracker's 15-frame read window (outputs are forgotten), past SAM 3's object cap, and through its hot-start
    removals (objects shown on held-back frames, then hidden there)."""
    store = FrameStore(str(_dataset(tmp_path / "data", 24, players=3) / "JPEGImages" / "seq000"))
    stock = _stock(model, [store[i] for i in range(len(store))], "person")
    with Sam3VideoStream(model, store, "person") as stream:
        ours = {frame.frame: frame for frame in stream.run()}
        assert stream.session.max_obj_id >= 1  # the clip has objects to compare
        assert stream.session.hotstart_removed_obj_ids  # SAM 3 removed some within its hot-start window
        assert stream.frames_held_peak < len(store)
    assert sorted(ours) == list(range(len(store)))
    shown = 0
    for index, (ids, masks, scores) in stock.items():
        frame = ours[index]
        assert list(frame.masks) == ids, index
        for k, obj in enumerate(ids):
            assert np.array_equal(frame.masks[obj], masks[k]), (index, obj)
            assert frame.scores[obj] == pytest.approx(scores[k], abs=1e-6)
        shown += len(ids)
    assert shown > 0


def test_frames_held_stay_flat_at_two_clip_lengths(model, tmp_path: Path) -> None:
    """The test model holds at most 8 objects (so the frames they were first seen on stop growing early)."""
    peaks = []
    for frames in (24, 48):
        store = FrameStore(str(_dataset(tmp_path / f"d{frames}", frames) / "JPEGImages" / "seq000"))
        with Sam3VideoStream(model, store, "person") as stream:
            handed = sum(1 for _ in stream.run())
            peaks.append(stream.frames_held_peak)
        assert handed == frames
    # the tracker's 15-frame read window, the frames the objects were first seen on (their conditioning memory,
    # which the model reads on every frame) and the frames held back for SAM 3's hot-start rules
    assert peaks[1] == peaks[0] < 24


def test_cli_writes_a_complete_run_folder(six: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    clip = six / "JPEGImages" / "seq000"
    assert main(["autolabel", str(clip), "--detector", "test-sam3", "--out", str(out), "--quiet"]) == 0
    facts = json.loads((out / "run.json").read_text())
    assert facts["model"] == "autolabel:test-sam3"
    assert facts["pipeline"] == "sam3" and facts["tracker"] == "test-sam3"
    assert facts["random_weights"] is True and facts["detector"]["random_weights"] is True
    assert any("random weights" in warning for warning in facts["warnings"])
    assert facts["autolabel"]["detection_frames"] == list(range(6))
    records = json.loads((out / "detections.json").read_text())
    assert facts["autolabel"]["detections"] == len(records) > 0
    assert {"frame", "box", "score", "label", "kept", "reason", "track_id"} <= set(records[0])
    assert (out / "overlay.mp4").is_file() and len(list((out / "masks").glob("*.png"))) == 6
    assert "random weights" in capsys.readouterr().out


def test_compare_and_evaluate_run_the_sam3_autolabeler(six: Path, tmp_path: Path) -> None:
    clip, prompts = six / "videos" / "seq000.mp4", six / "prompts" / "seq000.json"
    compare = ["compare", str(clip), "--prompts", str(prompts), "--out", str(tmp_path / "cmp"), "--quiet"]
    assert main([*compare, "--model-a", "autolabel:test-sam3", "--model-b", "test-sam2.1-tiny-128"]) == 0
    run = json.loads((tmp_path / "cmp" / "A" / "run.json").read_text())
    assert run["pipeline"] == "sam3" and run["random_weights"] is True
    models = "autolabel:test-sam3,test-sam2.1-tiny-128"
    evaluate = ["evaluate", "--data", str(six), "--models", models, "--out", str(tmp_path / "ev"), "--quiet"]
    assert main(evaluate) == 0
    assert list((tmp_path / "ev").rglob("score.json"))


def test_box_threshold_sets_the_score_a_sam3_detection_needs(
    model, six: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--box-threshold with SAM 3 is the score a detection needs to count and to start an object, for that run only:
    at 1.0 nothing is detected (nothing tracked); at 0 every query counts (as many objects start as at the model's
    own thresholds, or more); the model keeps its own thresholds after each session. --text-threshold is refused in
    one sentence."""
    store = FrameStore(str(six / "JPEGImages" / "seq000"))
    sam3 = model.predictor.model
    own = Sam3Thresholds.of(model)
    assert (own.detection, own.new_object) == (sam3.score_threshold_detection, sam3.new_det_thresh)
    started = {}
    for value in (None, 0.0, 1.0):
        thresholds = None if value is None else Sam3Thresholds.both(value)
        with Sam3VideoStream(model, store, "person", thresholds) as stream:
            if value is not None:
                assert sam3.new_det_thresh == sam3.score_threshold_detection == value
            shown = sum(len(frame.masks) for frame in stream.run())
            started[value] = (stream.session.max_obj_id + 1, shown)
        assert Sam3Thresholds.of(model) == own and sam3.new_det_thresh == own.new_object
    assert started[1.0] == (0, 0)
    assert started[0.0][0] >= started[None][0] > 0  # the test model caps objects at 8
    out = tmp_path / "strict"
    clip = str(six / "JPEGImages" / "seq000")
    assert (
        main(["autolabel", clip, "--detector", "test-sam3", "--box-threshold", "1", "--out", str(out), "--quiet"]) == 0
    )
    detector = json.loads((out / "run.json").read_text())["detector"]
    assert detector["new_object_threshold"] == detector["score_threshold"] == 1.0
    assert json.loads((out / "detections.json").read_text()) == []
    capsys.readouterr()
    refused = ["autolabel", clip, "--detector", "test-sam3", "--text-threshold", "0.3", "--out", str(tmp_path / "t")]
    assert main(refused) == 2
    error = capsys.readouterr().err.strip()
    assert "--text-threshold" in error and "SAM 3" in error and "Traceback" not in error
    assert not (tmp_path / "t").exists()


def _box_mask(height: int, width: int, box: list[int]) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = True
    return mask


def test_the_player_filter_drops_non_players_and_ids_follow_first_appearance(
    model, six: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SAM 3 hands out two players and a spectator in the stands (off the pitch): the spectator is recorded but not
    written; SAM 3's ids 7 and 3 become tracks 1 and 2 in the order they first appear as players."""
    store = FrameStore(str(six / "JPEGImages" / "seq000"))
    meta = json.loads((six / "meta.json").read_text())["sequences"]["seq000"]["frames"]

    def fake_run(self: Sam3VideoStream) -> Iterator[Sam3Frame]:
        for frame, entry in enumerate(meta):
            figures = entry["figures"]
            boxes = {f["object_id"]: f["box"] for f in figures if f["role"] == "player"}
            crowd = next(f["box"] for f in figures if f["role"] == "crowd")
            objects = {7: boxes[1], 12: crowd, **({3: boxes[2]} if frame >= 2 else {})}
            masks = {obj: _box_mask(store.height, store.width, box) for obj, box in sorted(objects.items())}
            scores = dict.fromkeys(masks, 0.9)
            cost = FrameResult(frame, masks, scores, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, reverse=False)
            yield Sam3Frame(frame, masks, scores, dict.fromkeys(masks, "person"), cost)

    monkeypatch.setattr(Sam3VideoStream, "run", fake_run)
    result = Sam3AutoLabeler(model, "person").run(store)
    assert result.object_ids == [1, 2]
    assert result.masks.object_ids_at(0) == [1] and result.masks.object_ids_at(3) == [1, 2]
    report = result.autolabel
    assert report is not None and report.track_ids == [1, 2]
    spectators = [r for r in report.records if r.track_id is None]
    assert len(spectators) == 6 and all(not r.kept and r.reason for r in spectators)
    assert {r.track_id for r in report.records if r.kept} == {1, 2}
    assert [e["kind"] for e in report.events] == ["start", "start"]
    assert all(s.latency_ms >= 1.0 and s.passes == 1 for s in result.frame_stats)


def test_names_and_one_sentence_errors(six: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_autolabel_name("autolabel:sam3") == AutoLabelerName("sam3", "sam3", "sam3")
    assert parse_autolabel_name("autolabel:test-sam3").is_sam3  # type: ignore[union-attr]
    plain = parse_autolabel_name("autolabel:grounding-dino-tiny+sam2.1-large")
    assert plain == AutoLabelerName("grounding-dino-tiny", "sam2.1-large") and not plain.is_sam3
    assert parse_autolabel_name("sam3") is None and is_sam3_detector("test-sam3")
    for bad in ("autolabel:sam3+sam2.1-large", "autolabel:nothing"):
        with pytest.raises(ValueError) as error:
            parse_autolabel_name(bad)
        assert str(error.value).count(". ") == 0 and str(error.value).endswith(".")
    with pytest.raises(ModelUnavailableError, match="test-sam3"):
        sam3_video_spec("sam4")
    clip = str(six / "JPEGImages" / "seq000")
    for extra in (["--tracker", "sam2.1-tiny"], ["--every", "3"]):
        capsys.readouterr()
        code = main(["autolabel", clip, "--detector", "test-sam3", "--out", str(tmp_path / "x"), *extra])
        assert code != 0
        assert "SAM 3" in capsys.readouterr().err
    compare = ["compare", clip, "--prompts", str(six / "prompts" / "seq000.json"), "--out", str(tmp_path / "c")]
    assert main([*compare, "--model-a", "autolabel:sam3+sam2.1-tiny", "--model-b", "test-sam2.1-tiny-128"]) != 0


def test_hub_model_offline_is_one_sentence_naming_repo_and_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailableError) as error:
        load_sam3_video_model("sam3", "cpu")
    message = str(error.value)
    assert "facebook/sam3" in message and "HF_TOKEN" in message and "licence" in message
    assert message.count(". ") == 0 and "\n" not in message


def test_tiny_tokenizer_and_phrases() -> None:
    tokenizer = tiny_clip_tokenizer()
    assert len(tokenizer("person").input_ids) == 3  # start, "person</w>", end
    assert len(tokenizer("red shirt").input_ids) == 2 + len("redshirt")
    assert sam3_phrases("Player. referee,  goal keeper") == ["player", "referee", "goal keeper"]
    with pytest.raises(ValueError):
        sam3_phrases(" . ")
