"""The U-Net baseline as a contender: the tracker's passes and results (test-unet: the real U-Net with fixed-seed
random weights), its instances from prompts with the true player pixels standing in for the network (an oracle:
what the assignment does when the U-Net is right), and test-unet through segment, compare and evaluate."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from playerseg.__main__ import main
from playerseg.errors import PlayerSegError
from playerseg.io.prompts import Prompt, PromptSet
from playerseg.io.video import FrameStore
from playerseg.tracking.registry import LoadedModel, ModelUnavailableError, get_spec, load_video_model
from playerseg.tracking.trackers import open_tracker
from playerseg.tracking.unet_tracker import UNetTracker

TEST_MODEL = "test-unet"


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    return load_video_model(TEST_MODEL, "cpu")


@pytest.fixture(scope="module")
def pitch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from playerseg.synthetic.dataset import generate_dataset

    root = tmp_path_factory.mktemp("unet-pitch") / "data"
    generate_dataset(root, sequences=1, frames=16, players=3, seed=11)  # players 1 and 3 cross mid-clip
    return root


def _truth(root: Path, frame: int) -> np.ndarray:
    return np.asarray(Image.open(root / "Annotations" / "seq000" / f"{frame:05d}.png"))


class _RecordingFrames:
    """A frame source that remembers which frame was read last (for the oracle standing in for the U-Net)."""

    def __init__(self, store: FrameStore) -> None:
        self.store, self.width, self.height, self.last = store, store.width, store.height, -1

    def __len__(self) -> int:
        return len(self.store)

    def __getitem__(self, index: int) -> np.ndarray:
        self.last = index
        return self.store[index]


def _oracle_track(model: LoadedModel, root: Path, prompts: PromptSet, monkeypatch: pytest.MonkeyPatch) -> list:
    frames = _RecordingFrames(FrameStore(str(root / "videos" / "seq000.mp4")))

    def true_logits(self: UNetTracker, rgb: np.ndarray) -> np.ndarray:
        label = _truth(root, frames.last)
        return np.where((label > 0) & (label != 255), 4.0, -4.0).astype(np.float32)

    monkeypatch.setattr(UNetTracker, "_logits", true_logits)
    with open_tracker(model, frames) as tracker:
        tracker.add_prompts(prompts)
        return list(tracker.track())


def test_a_tracker_per_family_with_the_same_passes_as_sam2(model: LoadedModel, pitch: Path) -> None:
    store = FrameStore(str(pitch / "videos" / "seq000.mp4"))
    with open_tracker(model, store) as tracker:
        assert isinstance(tracker, UNetTracker)
        tracker.add_prompts([Prompt.from_click(0, 1, 100, 100), Prompt.from_click(5, 2, 300, 200)])
        results = list(tracker.track())
        assert tracker.object_ids == [1, 2]
    # forward over all 16 frames from frame 0, then back from frame 4 for object 2 (first prompted on frame 5)
    assert [(r.frame, r.reverse) for r in results] == [(f, False) for f in range(16)] + [
        (f, True) for f in range(4, -1, -1)
    ]
    assert [sorted(r.masks) for r in results[:5]] == [[1]] * 5 and sorted(results[5].masks) == [1, 2]
    assert all(sorted(r.masks) == [2] for r in results[16:])
    for result in results:
        for mask in result.masks.values():
            assert mask.shape == (360, 640) and mask.dtype == bool
        assert result.latency_ms >= result.encoder_ms > 0 and result.memory_mb > 0
    assert results[0].prompt_ms > 0 and results[1].prompt_ms == 0


def test_with_the_true_player_pixels_players_apart_are_exact_and_touching_players_are_shared(
    model: LoadedModel, pitch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = PromptSet.load(pitch / "prompts" / "seq000.json")
    results = _oracle_track(model, pitch, prompts, monkeypatch)
    ious: dict[int, list[float]] = {obj: [] for obj in prompts.object_ids}
    for result in results:
        truth = _truth(pitch, result.frame)
        for obj, mask in result.masks.items():
            ious[obj].append(float((mask & (truth == obj)).sum() / (mask | (truth == obj)).sum()))
    # player 3 runs alone until it meets player 1 (frame 7): exact there, as is every frame's union
    assert ious[3][:7] == [1.0] * 7
    # players 1 and 2 touch from the first frame: split by the nearest (motion-predicted) mask, not exactly
    assert 0.6 < np.mean(ious[1][:8]) < 1.0 and 0.4 < np.mean(ious[2][:8]) < 1.0
    # player 1 crosses player 3 (frames 7-10) and comes out with its own id
    assert min(ious[1][10:]) > 0.75, ious[1]


def test_a_negative_click_on_a_later_frame_takes_the_region_away_there(
    model: LoadedModel, pitch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = PromptSet.load(pitch / "prompts" / "seq000.json")
    truth = _truth(pitch, 6)
    ys, xs = np.nonzero(truth == 2)
    correction = Prompt(frame=6, object_id=2, points=(Prompt.from_click(6, 2, 0, 0).points[0].__class__(
        float(xs[len(xs) // 2]), float(ys[len(ys) // 2]), False),))  # fmt: skip
    results = _oracle_track(model, pitch, PromptSet([*prompts.prompts, correction]), monkeypatch)
    by_frame = {r.frame: r for r in results if not r.reverse}
    assert by_frame[5].masks[2].any()
    assert not by_frame[6].masks[2].any()
    # lost for one frame, its last mask claims the player again on the next
    assert by_frame[7].masks[2].any()


def test_a_given_mask_is_the_frame_output(model: LoadedModel, pitch: Path) -> None:
    store = FrameStore(str(pitch / "videos" / "seq000.mp4"))
    given = _truth(pitch, 3) == 1
    with UNetTracker(model, store) as tracker:
        tracker.add_mask(3, 1, given)
        results = list(tracker.track())
    assert results[0].frame == 3 and np.array_equal(results[0].masks[1], given)
    assert [r.frame for r in results if r.reverse] == [2, 1, 0]


def test_what_a_unet_cannot_do_is_one_sentence(model: LoadedModel, pitch: Path) -> None:
    from playerseg.tracking.frameskip import SkipSettings

    store = FrameStore(str(pitch / "videos" / "seq000.mp4"))
    with pytest.raises(PlayerSegError, match="Frame skipping is for SAM2 models"):
        open_tracker(model, store, skip=SkipSettings(threshold_px=2.0))
    with pytest.raises(ModelUnavailableError, match="no memory to make motion-aware"):
        get_spec(TEST_MODEL + "+motion")
    tracker = UNetTracker(model, store)
    with pytest.raises(PlayerSegError, match="No prompts were given"):
        list(tracker.track())
    with pytest.raises(PlayerSegError, match="outside the clip's 16 frames"):
        tracker.add_prompt(Prompt.from_click(16, 1, 5, 5))
    tracker.add_prompt(Prompt.from_click(0, 1, 5, 5))
    list(tracker.track())
    with pytest.raises(PlayerSegError, match="already run"):
        list(tracker.track())


def test_test_unet_through_segment_compare_and_evaluate(pitch: Path, tmp_path: Path) -> None:
    clip, prompts = str(pitch / "videos" / "seq000.mp4"), str(pitch / "prompts" / "seq000.json")
    run = tmp_path / "run"
    args = ["segment", clip, "--model", TEST_MODEL, "--prompts", prompts, "--max-frames", "6", "--quiet"]
    assert main([*args, "--out", str(run)]) == 0
    facts = json.loads((run / "run.json").read_text())
    assert (facts["model"], facts["family"], facts["random_weights"]) == (TEST_MODEL, "unet", True)
    assert len(list((run / "masks").glob("*.png"))) == 6
    compared = tmp_path / "compare"
    code = main(["compare", clip, "--prompts", prompts, "--model-a", "test-sam2.1-tiny-128", "--model-b",
                 TEST_MODEL, "--out", str(compared), "--max-frames", "6", "--quiet"])  # fmt: skip
    assert code == 0
    summary = json.loads((compared / "summary.json").read_text())
    assert summary["models"]["B"]["name"] == TEST_MODEL
    assert "family" not in json.loads((compared / "A" / "run.json").read_text())
    out = tmp_path / "evaluate"
    code = main(["evaluate", "--data", str(pitch), "--models", f"{TEST_MODEL},test-sam2.1-tiny-128", "--out",
                 str(out), "--quiet", "--device", "cpu"])  # fmt: skip
    assert code == 0
    with open(out / "leaderboard.csv", newline="") as handle:
        assert {row["model"] for row in csv.DictReader(handle)} == {TEST_MODEL, "test-sam2.1-tiny-128"}


def test_segment_refuses_what_a_unet_lacks_in_one_sentence(
    pitch: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip, prompts = str(pitch / "videos" / "seq000.mp4"), str(pitch / "prompts" / "seq000.json")
    base = ["segment", clip, "--model", TEST_MODEL, "--prompts", prompts, "--quiet"]
    assert main([*base, "--skip-motion", "3", "--out", str(tmp_path / "a")]) == 2
    assert main([*base, "--memory", "motion", "--out", str(tmp_path / "b")]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "Frame skipping is for SAM2" in errors[0] and "motion-aware" in errors[1]
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_remembered_mask_moves_on_by_its_velocity_and_leaves_the_frame() -> None:
    from playerseg.tracking.unet_tracker import _Memory, _remember, shifted

    mask = np.zeros((6, 8), dtype=bool)
    mask[1:3, 1:3] = True
    moved = shifted(mask, 2, 1)
    assert np.array_equal(np.argwhere(moved), np.argwhere(mask) + [1, 2])
    assert not shifted(mask, -3, 0).any() and not shifted(mask, 8, 0).any()
    memory: dict[int, _Memory] = {}
    _remember({1: mask}, memory)
    _remember({1: shifted(mask, 2, 0)}, memory)  # the centre moved 2 px right in one frame
    assert memory[1].velocity == (2.0, 0.0)
    _remember({1: np.zeros_like(mask)}, memory)  # lost: the last mask is predicted 2 frames on
    assert memory[1].age == 1 and np.array_equal(memory[1].predicted(), shifted(mask, 6, 0))
