"""compare_models: two real test-size models on a synthetic clip, one model failing alone, the same model twice,
ground truth from uploads, the disagreement frame, progress reports."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest

from evaluation.accuracy import score_sequence
from evaluation.datasets.coco_json import save_coco_rle
from evaluation.datasets.mask_pngs import load_mask_folder
from evaluation.sequence import MaskSequence
from playerseg.compare.ground_truth import GroundTruthError, read_ground_truth
from playerseg.compare.outcome import Comparison
from playerseg.compare.pool import ModelPool
from playerseg.compare.run import compare_models
from playerseg.compare.selection import Selection
from playerseg.io.overlay import ONLY_A_COLOR, ONLY_B_COLOR, OTHER_ID_COLOR, disagreement_frame
from playerseg.io.prompts import Prompt, PromptError, PromptSet

FRAMES, WIDTH, HEIGHT = 8, 160, 96
SMALL, LARGE = "test-sam2.1-tiny-128", "test-sam2.1-tiny-256"


def video_facts(path: Path) -> tuple[str, int, int, int]:
    """(codec, decoded frames, width, height) as PyAV reads the file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        return stream.codec_context.name, frames, stream.width, stream.height


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from playerseg.synthetic.dataset import generate_dataset

    out = tmp_path_factory.mktemp("synthetic")
    generate_dataset(out, sequences=1, frames=FRAMES, players=2, width=WIDTH, height=HEIGHT, seed=3)
    return out


@pytest.fixture(scope="module")
def clip(dataset: Path) -> Path:
    return dataset / "videos" / "seq000.mp4"


@pytest.fixture(scope="module")
def prompts(dataset: Path) -> PromptSet:
    return PromptSet.load(dataset / "prompts" / "seq000.json")


@pytest.fixture(scope="module")
def gt_zip(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic annotations zipped in the DAVIS layout, with a JPEG folder beside them as a real zip has."""
    path = tmp_path_factory.mktemp("upload") / "davis.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for png in sorted((dataset / "Annotations" / "seq000").glob("*.png")):
            archive.write(png, f"davis/Annotations/seq000/{png.name}")
        archive.write(dataset / "JPEGImages" / "seq000" / "00000.jpg", "davis/JPEGImages/seq000/00000.jpg")
    return path


@pytest.fixture(scope="module")
def gt_json(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    annotations = load_mask_folder(dataset / "Annotations" / "seq000")
    return save_coco_rle(annotations, tmp_path_factory.mktemp("upload") / "gt.json")


@pytest.fixture(scope="module")
def pool() -> ModelPool:
    return ModelPool("cpu")


@pytest.fixture(scope="module")
def run(
    clip: Path, prompts: PromptSet, gt_zip: Path, pool: ModelPool, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Comparison, list[tuple[str, str, int, int]]]:
    """128 px vs 256 px on the whole clip, ground truth from the zip, every progress call recorded."""
    out = tmp_path_factory.mktemp("compare")
    ground_truth = read_ground_truth(gt_zip, out / "work")
    events: list[tuple[str, str, int, int]] = []
    comparison = compare_models(
        clip,
        prompts,
        [SMALL, LARGE],
        out,
        pool=pool,
        ground_truth=ground_truth,
        progress=lambda *event: events.append(event),
    )
    return comparison, events


def test_both_models_write_complete_run_folders_and_shared_videos(run, prompts: PromptSet) -> None:
    comparison, _ = run
    a, b = comparison.outcomes
    assert (a.label, a.name, b.label, b.name) == ("A", SMALL, "B", LARGE)
    for outcome, image_size in ((a, 128), (b, 256)):
        assert outcome.ok and outcome.error is None
        assert outcome.run_dir == comparison.out_dir / outcome.label
        assert len(list((outcome.run_dir / "masks").glob("*.png"))) == FRAMES
        assert video_facts(outcome.overlay) == ("h264", FRAMES, WIDTH, HEIGHT)
        assert len((outcome.run_dir / "frames.csv").read_text().strip().splitlines()) == FRAMES + 1
        facts = json.loads((outcome.run_dir / "run.json").read_text())
        assert outcome.facts is not None and facts == outcome.facts.to_json()
        assert facts["image_size"] == image_size and facts["random_weights"] is True
        # written by the one run folder writer, as `segment` writes it: the flicker facts and its phases' timings
        assert facts["flicker"]["consecutive_iou"] == pytest.approx(outcome.temporal.mean_consecutive_iou)
        assert set(facts["timings"]) >= {"tracking_s", "masks_s", "overlay_s", "flicker_s"}
        assert PromptSet.load(outcome.run_dir / "prompts.json") == prompts  # the source prompts, replayable
    codec, frames, width, height = video_facts(comparison.side_by_side)
    assert codec == "h264" and frames == FRAMES and width >= 2 * WIDTH and height > HEIGHT
    assert video_facts(comparison.disagreement) == ("h264", FRAMES, WIDTH, HEIGHT)
    assert comparison.report is not None and comparison.report.name == "report.html"
    page = comparison.report.read_text()
    assert a.display_name in page and b.display_name in page
    assert comparison.agreement is not None and comparison.agreement.frames == tuple(range(FRAMES))
    assert any("RANDOM WEIGHTS" in notice and a.display_name in notice for notice in comparison.notices)


def test_summary_holds_both_models_metrics_and_is_json(run) -> None:
    comparison, _ = run
    summary = json.loads(json.dumps(comparison.summary()))  # plain JSON values only
    assert summary["clip"] == {
        "width": WIDTH,
        "height": HEIGHT,
        "fps": 24.0,
        "frames": FRAMES,
        "duration_s": pytest.approx(FRAMES / 24, abs=0.01),
    }
    assert summary["selection"]["frames"] == FRAMES and summary["selection"]["first_frame"] == 0
    for label, name in (("A", SMALL), ("B", LARGE)):
        model = summary["models"][label]
        assert model["name"] == name and model["ok"] is True and model["error"] is None
        assert model["random_weights"] is True and model["device"] == "cpu" and model["checkpoint"] == "random"
        assert model["latency"]["p50_ms"] > 0 and model["latency"]["p95_ms"] >= model["latency"]["p50_ms"]
        assert model["latency"]["frames"] == FRAMES
        assert model["memory"]["kind"] == "process_rss" and model["memory"]["peak_mb"] > 0
        flicker = model["flicker"]
        assert 0 <= flicker["consecutive_iou"] <= 1 and flicker["flow_consistency"] is not None
        assert sorted(row["object_id"] for row in flicker["objects"]) == [1, 2]
        assert model["accuracy"]["frames_scored"] == FRAMES and 0 <= model["accuracy"]["JF_mean"] <= 1
    assert summary["agreement"]["models"] == [comparison.outcomes[0].display_name, comparison.outcomes[1].display_name]
    files = summary["files"]
    for key in ("side_by_side", "disagreement", "report", "A", "B"):
        assert Path(files[key]).exists()
    # the larger input costs more per frame: the two columns are not copies of one run
    assert summary["models"]["B"]["latency"]["p50_ms"] > summary["models"]["A"]["latency"]["p50_ms"]


def test_accuracy_matches_score_sequence_on_the_run_folders_masks(run, gt_json: Path, tmp_path: Path) -> None:
    comparison, _ = run
    from_json = read_ground_truth(gt_json, tmp_path)
    for outcome in comparison.outcomes:
        direct = score_sequence(load_mask_folder(outcome.run_dir / "masks"), from_json)
        assert outcome.accuracy is not None and outcome.accuracy.frames == direct.frames
        np.testing.assert_allclose(outcome.accuracy.J, direct.J, atol=1e-9)
        np.testing.assert_allclose(outcome.accuracy.F, direct.F, atol=1e-9)
        assert outcome.accuracy.name == outcome.display_name
        assert comparison.summary()["models"][outcome.label]["accuracy"]["J_mean"] == pytest.approx(
            direct.J_mean, abs=1e-4
        )
    assert any(f"{FRAMES} of {FRAMES} ground-truth frames" in notice for notice in comparison.notices)


def test_progress_reports_every_stage_for_both_models(run) -> None:
    _, events = run
    for label in ("A", "B"):
        for stage in ("load", "track", "render", "score"):
            calls = [(done, total) for who, what, done, total in events if (who, what) == (label, stage)]
            assert calls, f"no {stage} progress for {label}"
            assert all(0 <= done <= total for done, total in calls)
            assert calls[-1][0] == calls[-1][1]  # each stage ends complete
    renders = [done for who, what, done, _ in events if (who, what) == ("A", "render")]
    assert renders == list(range(1, FRAMES + 1))


def test_an_unavailable_model_fails_alone(
    clip: Path, prompts: PromptSet, pool: ModelPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants as hub

    # offline with an empty cache: the hub model cannot load, and nothing can be downloaded
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "hub"))
    comparison = compare_models(
        clip, prompts, [SMALL, "sam2.1-large"], tmp_path / "out", pool=pool, selection=Selection(max_frames=4)
    )
    a, b = comparison.outcomes
    assert a.ok and not b.ok and b.run_dir is None and b.overlay is None
    assert b.error.startswith("Model B (sam2.1-large)") and "sam2.1_hiera_large.pt" in b.error
    assert "\n" not in b.error and b.error.endswith(".") and "Traceback" not in b.error
    assert len(list((a.run_dir / "masks").glob("*.png"))) == 4
    assert video_facts(a.overlay)[:2] == ("h264", 4)
    assert (a.run_dir / "frames.csv").is_file() and (a.run_dir / "run.json").is_file()
    assert comparison.agreement is None and comparison.disagreement is None
    assert comparison.report is not None and b.error in comparison.report.read_text()
    # the side-by-side still plays; B's half is the darkened frame with the error written on it
    assert video_facts(comparison.side_by_side)[:2] == ("h264", 4)
    with av.open(str(comparison.side_by_side)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    bar = frame.shape[0] - HEIGHT
    left, right = frame[bar:, :WIDTH], frame[bar:, WIDTH : 2 * WIDTH]

    def colourfulness(half: np.ndarray) -> float:
        return float(np.abs(half.astype(int) - half.mean(axis=2, keepdims=True)).mean())

    assert colourfulness(right) < 2 < colourfulness(left)  # greyed, while A's overlay is in colour
    assert right.max() > 200 and np.median(right) < 60  # white text on a darkened frame
    summary = json.loads(json.dumps(comparison.summary()))
    assert summary["models"]["B"] == {
        **summary["models"]["B"],
        "ok": False,
        "error": b.error,
        "latency": None,
        "memory": None,
        "flicker": None,
        "accuracy": None,
    }
    assert summary["models"]["A"]["ok"] is True and summary["agreement"] is None
    assert summary["files"]["B"] is None and summary["files"]["disagreement"] is None


def test_same_model_twice_agrees_with_itself_on_a_strided_selection(
    clip: Path, prompts: PromptSet, pool: ModelPool, gt_json: Path, tmp_path: Path
) -> None:
    on_frame_one = PromptSet([Prompt(frame=1, object_id=p.object_id, points=p.points) for p in prompts.prompts])
    comparison = compare_models(
        clip,
        on_frame_one,
        [SMALL, SMALL],
        tmp_path / "out",
        pool=pool,
        selection=Selection(stride=2),
        ground_truth=read_ground_truth(gt_json, tmp_path / "work"),
    )
    a, b = comparison.outcomes
    assert a.ok and b.ok and a.display_name != b.display_name
    assert comparison.selection.frames == 4 and comparison.selection.stride == 2
    assert sorted(p.name for p in (a.run_dir / "masks").glob("*.png")) == [f"{f:05d}.png" for f in (0, 2, 4, 6)]
    assert comparison.agreement is not None
    assert comparison.agreement.mean_iou == pytest.approx(1.0)  # CPU inference is deterministic
    assert np.all(comparison.agreement.differing_pixels == 0)
    assert video_facts(comparison.disagreement)[:2] == ("h264", 4)
    assert any("moved to processed frame" in notice for notice in comparison.notices)
    assert any("4 of 8 ground-truth frames" in notice for notice in comparison.notices)
    assert a.accuracy is not None and a.accuracy.frames == (0, 2, 4, 6)
    assert len({o.display_name for o in (a, b)} | {a.accuracy.name, b.accuracy.name}) == 2


def test_bad_input_fails_the_whole_call_before_any_model_loads(clip: Path, tmp_path: Path) -> None:
    pool = ModelPool("cpu", cache=False)
    outside = PromptSet([Prompt.from_click(0, 1, 5000, 10)])
    with pytest.raises(PromptError, match="object 1"):
        compare_models(clip, outside, [SMALL, SMALL], tmp_path, pool=pool)
    with pytest.raises(PromptError, match="No prompts"):
        compare_models(clip, PromptSet([]), [SMALL, SMALL], tmp_path, pool=pool)
    with pytest.raises(ValueError, match="exactly two models"):
        compare_models(clip, outside, [SMALL], tmp_path, pool=pool)
    wrong_size = read_ground_truth(_zip_of(tmp_path / "gt.zip", {"00000.png": np.ones((10, 10), np.uint8)}), tmp_path)
    with pytest.raises(GroundTruthError, match="10x10"):
        compare_models(
            clip,
            PromptSet([Prompt.from_click(0, 1, 5, 5)]),
            [SMALL, SMALL],
            tmp_path,
            pool=pool,
            ground_truth=wrong_size,
        )


def test_disagreement_frame_colours_hand_worked_pixels() -> None:
    rgb = np.full((60, 80, 3), 100, np.uint8)
    a = np.zeros((60, 80), np.uint8)
    b = np.zeros((60, 80), np.uint8)
    a[2, 2] = 1  # only A
    b[2, 5] = 2  # only B
    a[3, 3], b[3, 3] = 1, 2  # both foreground, different ids
    a[4, 4], b[4, 4] = 1, 1  # agreement: grey, not dimmed
    a[5, 5] = 255  # void in A, background in B: no foreground anywhere
    out = disagreement_frame(rgb, a, b)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert tuple(out[2, 2]) == ONLY_A_COLOR
    assert tuple(out[2, 5]) == ONLY_B_COLOR
    assert tuple(out[3, 3]) == OTHER_ID_COLOR
    assert tuple(out[4, 4]) == (100, 100, 100)
    dimmed = (45, 45, 45)
    assert tuple(out[5, 5]) == dimmed and tuple(out[10, 40]) == dimmed
    assert len({ONLY_A_COLOR, ONLY_B_COLOR, OTHER_ID_COLOR, (100, 100, 100), dimmed}) == 5
    # the legend sits over the bottom rows: swatches of the three colours in it
    legend = out[-6:].reshape(-1, 3)
    for colour in (ONLY_A_COLOR, ONLY_B_COLOR, OTHER_ID_COLOR):
        assert np.any(np.all(legend == colour, axis=1)), colour
    assert np.all(rgb == 100) and a[2, 2] == 1  # inputs untouched
    # a small frame gets no legend: every untouched pixel stays dimmed
    small = disagreement_frame(rgb[:20], a[:20], b[:20])
    assert np.all(small[10:] == 45)


def _zip_of(path: Path, files: dict[str, np.ndarray | bytes]) -> Path:
    from playerseg.io.masks import write_palette_png

    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            if isinstance(content, np.ndarray):
                png = path.parent / "tmp.png"
                write_palette_png(png, content)
                archive.write(png, name)
            else:  # a bare ZipInfo keeps the name as given, even an absolute one
                archive.writestr(zipfile.ZipInfo(name), content)
    return path


def test_read_ground_truth_accepts_a_flat_zip_and_the_coco_json(dataset: Path, gt_json: Path, tmp_path: Path) -> None:
    labels = np.zeros((HEIGHT, WIDTH), np.uint8)
    labels[10:20, 30:40] = 1
    flat = read_ground_truth(
        _zip_of(
            tmp_path / "masks.zip",
            {"00003.png": labels, "00005.png": labels, "notes.txt": b"x", "__MACOSX/._00003.png": b"junk"},
        ),
        tmp_path / "work",
    )
    assert flat.name == "masks" and flat.frames == (3, 5) and np.array_equal(flat.read(5), labels)
    coco = read_ground_truth(gt_json, tmp_path)
    davis = load_mask_folder(dataset / "Annotations" / "seq000")
    assert coco.frames == davis.frames and all(np.array_equal(coco.read(f), davis.read(f)) for f in davis.frames)


@pytest.mark.parametrize(
    "kind, message",
    [
        ("text", "must be a .zip"),
        ("fake_zip", "not a readable zip"),
        ("no_png", "no .png masks"),
        ("traversal", "unsafe entry"),
        ("absolute", "unsafe entry"),
        ("two_sequences", "2 sequences"),
        ("unnumbered", "frame number"),
        ("missing", "does not exist"),
    ],
)
def test_read_ground_truth_refuses_bad_uploads(kind: str, message: str, tmp_path: Path) -> None:
    labels = np.ones((8, 8), np.uint8)
    work = tmp_path / "work"
    if kind == "text":
        path = tmp_path / "gt.txt"
        path.write_text("masks")
    elif kind == "fake_zip":
        path = tmp_path / "gt.zip"
        path.write_bytes(b"PK not really a zip")
    elif kind == "no_png":
        path = _zip_of(tmp_path / "gt.zip", {"readme.txt": b"no masks here", "frames/00000.jpg": b"jpeg"})
    elif kind == "traversal":
        path = _zip_of(tmp_path / "gt.zip", {"00000.png": labels, "../00001.png": labels})
    elif kind == "absolute":
        path = _zip_of(tmp_path / "gt.zip", {"00000.png": labels, "/tmp/00001.png": b"png"})
    elif kind == "two_sequences":
        from evaluation.sequence import MaskSequence

        path = tmp_path / "gt.json"
        documents = [
            json.loads(save_coco_rle(MaskSequence.from_arrays(name, {0: labels}), path).read_text())
            for name in ("one", "two")
        ]
        merged = {
            "images": documents[0]["images"] + [{**image, "id": 2} for image in documents[1]["images"]],
            "annotations": documents[0]["annotations"]
            + [{**ann, "id": 2, "image_id": 2} for ann in documents[1]["annotations"]],
        }
        path.write_text(json.dumps(merged))
    elif kind == "unnumbered":
        path = _zip_of(tmp_path / "gt.zip", {"mask_a.png": labels})
    else:
        path = tmp_path / "absent.zip"
    with pytest.raises(GroundTruthError, match=message) as caught:
        read_ground_truth(path, work)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "00001.png").exists()  # nothing was written outside the work folder
    assert isinstance(caught.value, ValueError)


def test_model_pool_loads_each_model_once(pool: ModelPool) -> None:
    assert pool.device == "cpu"
    assert pool.get(SMALL) is pool.get(SMALL)


def test_only_prompted_objects_are_scored_for_both_models_with_one_notice(
    clip: Path, prompts: PromptSet, pool: ModelPool, gt_json: Path, tmp_path: Path
) -> None:
    """Only player 1 is clicked; the ground truth holds players 1 and 2. Neither model is scored on player 2: not
    the tracker (which never tracks it) and not the auto-labeler (whose track of the unclicked player 2 may well
    take id 2)."""
    from playerseg.compare.scoring import score_comparison

    only_one = PromptSet([p for p in prompts.prompts if p.object_id == 1])
    truth = read_ground_truth(gt_json, tmp_path / "work")
    comparison = compare_models(
        clip,
        only_one,
        [SMALL, "autolabel:test-gdino-tiny+test-sam2.1-tiny-128"],
        tmp_path / "out",
        pool=pool,
        selection=Selection(max_frames=3),
        ground_truth=truth,
    )
    notice = "Ground truth object 2 was not prompted: it is not scored."
    assert comparison.notices.count(notice) == 1  # both models gave it: listed once
    only_player_one = MaskSequence.from_arrays(
        "truth", {f: np.where(truth.read(f) == 1, 1, 0) for f in truth.frames if f < 3}
    )
    for outcome in comparison.outcomes:
        assert outcome.ok and outcome.accuracy is not None
        assert outcome.accuracy.object_ids == (1,) and outcome.accuracy.extra_objects == ()
        masks = load_mask_folder(outcome.run_dir / "masks")
        direct = score_sequence(
            MaskSequence.from_arrays("run", {f: np.where(masks.read(f) == 1, 1, 0) for f in masks.frames}),
            only_player_one,
        )
        np.testing.assert_allclose(outcome.accuracy.J, direct.J, atol=1e-9)
        np.testing.assert_allclose(outcome.accuracy.F, direct.F, atol=1e-9)
        assert comparison.summary()["models"][outcome.label]["accuracy"]["J_mean"] == pytest.approx(
            direct.J_mean, abs=1e-4
        )
    # ground truth given afterwards (the app's accuracy tab): the same objects, the notice still once
    score_comparison(comparison, read_ground_truth(gt_json, tmp_path / "again"))
    assert comparison.notices.count(notice) == 1
    assert all(outcome.accuracy.object_ids == (1,) for outcome in comparison.outcomes)
