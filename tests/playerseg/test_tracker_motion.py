"""Motion-aware memory (`+motion` models, after SAMURAI): the Kalman filter on hand-worked boxes, the candidate
choice by hand, the memory gate, and `X+motion` through the registry, the tracker (many objects, flat memory), the
decoder hook and the `segment` / `compare` / `evaluate` commands. Real sam2 code: the test-size model (random
weights, 128 px, CPU) for behaviour, nano-pitch for a measured J&F on a synthetic pitch clip with a crossing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from playerseg.__main__ import main
from playerseg.io.prompts import Prompt
from playerseg.tracking.motion import (
    BoxKalmanFilter,
    MotionSettings,
    box_iou,
    choose_candidate,
    keeps_memory,
    mask_box,
)
from playerseg.tracking.motion_memory import Choice, candidate_boxes
from playerseg.tracking.registry import LoadedModel, load_video_model
from playerseg.tracking.tracker import Sam2VideoTracker
from tests.playerseg.test_tracker_memory import PROMPTS, BouncingSquaresClip

TEST_MODEL = "test-sam2.1-tiny-128+motion"


def test_two_boxes_give_the_velocity_and_the_next_box_exactly() -> None:
    kalman = BoxKalmanFilter((10, 20, 30, 60))  # cx 20, cy 40, w 20, h 40
    assert kalman.predict() == (10, 20, 30, 60)  # no velocity yet
    kalman.update((13, 18, 35, 62))  # moved by (+4, +0) and grew by (+2, +4)
    assert kalman.predict() == pytest.approx((16, 16, 40, 64))
    kalman.update((16, 16, 40, 64))  # exactly as predicted: the innovation is 0, the state stays on the line
    assert kalman.predict() == pytest.approx((19, 14, 45, 66))


def test_a_missed_update_keeps_predicting_at_the_same_velocity() -> None:
    kalman = BoxKalmanFilter((0, 0, 10, 10))
    kalman.predict()
    kalman.update((5, 0, 15, 10))  # +5 px in x a frame
    kalman.predict()  # frame 2: no box (object score <= 0), no update
    assert kalman.predict() == pytest.approx((15, 0, 25, 10))
    assert kalman.predict(steps=2) == pytest.approx((25, 0, 35, 10))


def test_velocity_over_a_gap_is_per_frame() -> None:
    kalman = BoxKalmanFilter((0, 0, 10, 10))
    kalman.predict(steps=2)
    kalman.update((6, 0, 16, 10))  # 6 px over two frames: 3 px a frame
    assert kalman.predict() == pytest.approx((9, 0, 19, 10))


def test_an_update_off_the_prediction_moves_the_state_towards_it() -> None:
    kalman = BoxKalmanFilter((0, 0, 10, 10))
    kalman.predict()
    kalman.update((2, 0, 12, 10))
    predicted = kalman.predict()
    kalman.update((10, 0, 20, 10))  # jumped 6 px past the prediction (4, 0, 14, 10)
    assert predicted[0] < kalman.box[0] < 10


def test_box_iou_and_mask_box_by_hand() -> None:
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), None) == 0.0 and box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0
    mask = np.zeros((6, 8), bool)
    mask[2:4, 1:6] = True
    assert mask_box(mask) == (1, 2, 6, 4) and mask_box(np.zeros((3, 3), bool)) is None


def test_the_candidate_that_agrees_with_the_motion_wins_over_a_slightly_higher_predicted_iou() -> None:
    boxes = [(0, 0, 10, 10), (20, 0, 30, 10), None]
    motion_box = (20, 0, 30, 10)
    # scores: 0.25 * 0 + 0.75 * 0.9 = 0.675; 0.25 * 1 + 0.75 * 0.8 = 0.85; 0.25 * 0 + 0.75 * 0.95 = 0.7125
    index, kf_ious = choose_candidate(boxes, [0.9, 0.8, 0.95], motion_box, alpha=0.25)
    assert index == 1 and kf_ious == [0.0, 1.0, 0.0]
    # far lower predicted IoU: the motion does not carry it (0.25 + 0.75 * 0.3 = 0.475 < 0.675)
    assert choose_candidate(boxes, [0.9, 0.3, 0.5], motion_box, alpha=0.25)[0] == 0
    # no filter yet: sam2's own choice, the highest predicted IoU
    assert choose_candidate(boxes, [0.9, 0.8, 0.95], None, alpha=0.25)[0] == 2


def test_the_gate_keeps_only_confident_masks() -> None:
    settings = MotionSettings()
    assert keeps_memory(1.0, 0.9, 0.8, settings)
    assert not keeps_memory(-0.5, 0.9, 0.8, settings)  # object score <= 0: the object is not there
    assert not keeps_memory(1.0, 0.4, 0.8, settings)  # the decoder doubts its mask
    assert not keeps_memory(1.0, 0.9, 0.3, settings)  # the mask is far from where the motion says
    assert keeps_memory(1.0, 0.9, None, settings)  # no filter yet: the motion does not vote


def test_candidate_boxes_from_decoder_logits() -> None:
    masks = torch.full((2, 3, 8, 8), -5.0)
    masks[0, 1, 2:5, 3:7] = 4.0
    masks[1, 2, 0:1, 0:8] = 1.0
    boxes = candidate_boxes(masks)
    assert boxes[0] == [None, (3, 2, 7, 5), None] and boxes[1] == [None, None, (0, 0, 8, 1)]


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    return load_video_model(TEST_MODEL, "cpu")


def test_a_motion_model_is_its_base_model_with_motion_memory(model: LoadedModel) -> None:
    plain = load_video_model("test-sam2.1-tiny-128", "cpu")
    assert model.spec.name == TEST_MODEL and model.spec.memory == "motion" and plain.spec.memory == "sam2"
    assert model.describe() == {**plain.describe(), "model": TEST_MODEL, "tracking_memory": "motion"}
    assert "tracking_memory" not in plain.describe()  # plain models' run.json is unchanged
    for name, tensor in plain.predictor.state_dict().items():
        assert torch.equal(tensor, model.predictor.state_dict()[name])


def track(model: LoadedModel, frames: int, settings: MotionSettings | None = None) -> tuple[list, list[int], int]:
    """Results of track(), each object's per-frame memories at the end, and the memories the gate dropped."""
    with Sam2VideoTracker(model, BouncingSquaresClip(frames)) as tracker:
        assert tracker.motion is not None
        if settings is not None:
            tracker.motion.settings = settings
        tracker.add_prompts(PROMPTS)
        results = list(tracker.track())
        held = [len(tracker._memory.outputs(obj)["non_cond_frame_outputs"]) for obj in tracker.object_ids]
        return results, held, tracker.motion.dropped


def test_many_objects_get_a_mask_on_every_frame_and_memory_stays_flat(model: LoadedModel) -> None:
    short, short_held, _ = track(model, 30)
    long, long_held, _ = track(model, 40)
    for results, frames in ((short, 30), (long, 40)):
        seen = {(r.frame, obj) for r in results for obj in r.masks}
        assert seen == {(frame, obj) for frame in range(frames) for obj in (1, 2, 3, 4)}
        assert all(mask.shape == (64, 96) for r in results for mask in r.masks.values())
    assert long_held == short_held  # the memory held does not grow with the clip


def test_the_gate_drops_memories_of_unconfident_frames_and_tracking_goes_on(model: LoadedModel) -> None:
    never = MotionSettings(tau_iou=1.1)  # no predicted IoU passes: every tracked frame's memory is dropped
    results, held, dropped = track(model, 24, never)
    # objects 1-3 (prompted on frame 0): frames 1-23; object 4 (prompted on 22): frame 23, then 21 back to 0
    assert held == [0, 0, 0, 0] and dropped == 3 * 23 + 1 + 22
    assert len(results) == 24 + 22 and all(len(r.masks) for r in results)


def test_a_negative_object_score_drops_the_frame_and_leaves_the_filter_alone(model: LoadedModel) -> None:
    with Sam2VideoTracker(model, BouncingSquaresClip(6)) as tracker:
        assert tracker.motion is not None
        tracker.add_prompts(PROMPTS[:1])
        results = list(tracker.track())
        memory = tracker.motion
        memory.choices[1] = Choice(index=0, predicted_iou=0.9, kf_iou=0.9, object_score=-1.0)
        outputs = tracker._memory.outputs(1)["non_cond_frame_outputs"]
        assert 5 in outputs
        memory.gate(5, [1], reverse=False)
        assert 5 not in outputs and len(results) == 6


def test_a_later_prompt_restarts_the_filter_from_its_mask(model: LoadedModel) -> None:
    with Sam2VideoTracker(model, BouncingSquaresClip(8)) as tracker:
        assert tracker.motion is not None
        tracker.add_prompts([Prompt.from_click(0, 1, 14, 18), Prompt.from_click(5, 1, 30, 18)])
        for result in tracker.track():
            if result.frame == 5:
                kalman, frame = tracker.motion._filters[(1, False)]
                prompted = tracker._memory.outputs(1)["cond_frame_outputs"][5]["pred_masks"][0, 0] > 0
                assert frame == 5 and kalman.box == pytest.approx(mask_box(prompted.numpy()))


def test_the_hook_leaves_other_runs_on_the_predictor_alone(model: LoadedModel) -> None:
    """sam2's own choice wherever no motion tracker is choosing (prompted frames, the plain tracker path)."""
    plain = load_video_model("test-sam2.1-tiny-128", "cpu")  # the same weights (the same seed)
    with Sam2VideoTracker(model, BouncingSquaresClip(4)) as tracker:
        tracker.motion = None
        tracker._stepper.motion = None
        tracker.add_prompts(PROMPTS[:2])
        hooked = [r.masks for r in tracker.track()]
    with Sam2VideoTracker(plain, BouncingSquaresClip(4)) as tracker:
        tracker.add_prompts(PROMPTS[:2])
        stock = [r.masks for r in tracker.track()]
    assert all(np.array_equal(a[obj], b[obj]) for a, b in zip(hooked, stock) for obj in a)


@pytest.fixture(scope="module")
def pitch_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from playerseg.synthetic.dataset import generate_dataset

    root = tmp_path_factory.mktemp("motion-pitch") / "data"
    generate_dataset(root, sequences=1, frames=24, players=3, seed=11)  # players 1 and 3 cross mid-clip
    return root


def test_nano_pitch_with_motion_through_evaluate_measured_against_plain(
    pitch_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["evaluate", "--data", str(pitch_dataset), "--models", "nano-pitch,nano-pitch+motion", "--out",
                 str(out), "--quiet", "--device", "cpu"])  # fmt: skip
    assert code == 0
    with open(out / "leaderboard.csv", newline="") as handle:
        rows = {row["model"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"nano-pitch", "nano-pitch+motion"}
    with capsys.disabled():  # the measured figures (not asserted: see the report)
        for name, row in rows.items():
            print(f"\n{name}: J {float(row['J']):.3f} F {float(row['F']):.3f} J&F {float(row['JF']):.3f}")
    facts = [json.loads(path.read_text()) for path in out.glob("runs/*/seq000/run.json")]
    assert sorted(fact.get("tracking_memory", "sam2") for fact in facts) == ["motion", "sam2"]


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from playerseg.synthetic.dataset import generate_dataset

    out = tmp_path_factory.mktemp("motion-clip")
    generate_dataset(out, sequences=1, frames=6, players=2, width=160, height=96, seed=5)
    return out


def test_segment_and_compare_run_a_motion_model_by_name(small_clip: Path, tmp_path: Path) -> None:
    clip, prompts = str(small_clip / "videos" / "seq000.mp4"), str(small_clip / "prompts" / "seq000.json")
    run = tmp_path / "run"
    assert main(["segment", clip, "--model", TEST_MODEL, "--prompts", prompts, "--out", str(run), "--quiet"]) == 0
    assert json.loads((run / "run.json").read_text())["tracking_memory"] == "motion"
    flagged = tmp_path / "flagged"
    args = ["segment", clip, "--model", "test-sam2.1-tiny-128", "--memory", "motion", "--prompts", prompts]
    assert main([*args, "--out", str(flagged), "--quiet"]) == 0
    assert json.loads((flagged / "run.json").read_text())["model"] == TEST_MODEL
    compared = tmp_path / "compare"
    code = main(["compare", clip, "--prompts", prompts, "--model-a", "test-sam2.1-tiny-128", "--model-b",
                 TEST_MODEL, "--out", str(compared), "--quiet"])  # fmt: skip
    assert code == 0
    summary = json.loads((compared / "summary.json").read_text())
    assert [summary["models"][label]["name"] for label in ("A", "B")] == ["test-sam2.1-tiny-128", TEST_MODEL]
    assert json.loads((compared / "B" / "run.json").read_text())["tracking_memory"] == "motion"
    assert "tracking_memory" not in json.loads((compared / "A" / "run.json").read_text())
