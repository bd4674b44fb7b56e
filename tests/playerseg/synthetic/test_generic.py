"""Generic synthetic clips (mode "generic"): the DAVIS files and meta, ground truth that agrees with itself to the
pixel, prompts, determinism, what the clips are made of (background families, people and shapes), occlusion by depth,
the camera, objects coming in, and the command line. The pitch mode's own tests are tests/playerseg/test_synthetic.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from playerseg.io.masks import read_palette_png
from playerseg.io.prompts import PromptSet
from playerseg.io.video import probe_video
from playerseg.synthetic.dataset import SyntheticError, generate_dataset
from playerseg.synthetic.figures import PART_SLOTS
from playerseg.synthetic.generic import GenericClip, make_clip, paint_codes
from playerseg.synthetic.generic_scene import FAMILIES, make_scene, view
from playerseg.synthetic.shapes import KINDS
from playerseg.synthetic.truth import deepest_point

REPO_ROOT = Path(__file__).resolve().parents[3]
SEQUENCES, FRAMES, OBJECTS, WIDTH, HEIGHT, FPS, SEED = 4, 12, 5, 320, 180, 12.0, 5
NAMES = [f"seq{i:03d}" for i in range(SEQUENCES)]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("generic")
    meta = generate_dataset(
        out, SEQUENCES, FRAMES, OBJECTS, WIDTH, HEIGHT, FPS, SEED, mode="generic"
    )  # positional up to seed: the signature pitch callers use, mode as the new keyword
    return out, meta


def labels_of(root: Path, name: str, frames: int = FRAMES) -> np.ndarray:
    return np.stack([read_palette_png(root / "Annotations" / name / f"{t:05d}.png") for t in range(frames)])


def clip_of(index: int) -> GenericClip:
    """The clip behind sequence `index` of the fixture: the same stream, drawn in the same order as dataset.py."""
    return make_clip(np.random.default_rng([SEED, index]), FRAMES, OBJECTS, WIDTH, HEIGHT)


def box_by_hand(mask: np.ndarray) -> list[int] | None:
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    return [int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1]


def depth_at(mask: np.ndarray, x: int, y: int) -> float:
    """Euclidean distance from (x, y) to the nearest pixel outside the mask (outside the frame counts)."""
    rows, cols = np.nonzero(~np.pad(mask, 1))
    return float(np.sqrt(((rows - (y + 1)) ** 2 + (cols - (x + 1)) ** 2).min()))


# ---------------------------------------------------------------- files and meta


def test_files_and_meta_of_a_generic_dataset(dataset: tuple[Path, dict[str, Any]]) -> None:
    root, meta = dataset
    assert json.loads((root / "meta.json").read_text()) == meta
    assert list(meta["sequences"]) == NAMES
    for name in NAMES:
        sequence = meta["sequences"][name]
        assert list(sequence) == ["width", "height", "fps", "mode", "frames"]
        assert (sequence["width"], sequence["height"], sequence["fps"], sequence["mode"]) == (
            WIDTH,
            HEIGHT,
            FPS,
            "generic",
        )
        assert [f["frame"] for f in sequence["frames"]] == list(range(FRAMES))
        assert len(list((root / "JPEGImages" / name).iterdir())) == FRAMES
        with Image.open(root / "JPEGImages" / name / "00000.jpg") as image:
            assert image.format == "JPEG" and image.size == (WIDTH, HEIGHT) and image.mode == "RGB"
        info = probe_video(root / "videos" / f"{name}.mp4")
        assert (info.width, info.height, info.frame_count, info.codec) == (WIDTH, HEIGHT, FRAMES, "h264")


def test_pitch_meta_has_no_mode_key(tmp_path: Path) -> None:
    meta = generate_dataset(tmp_path, frames=2, width=96, height=64)
    assert list(meta["sequences"]["seq000"]) == ["width", "height", "fps", "frames"]
    assert '"mode"' not in (tmp_path / "meta.json").read_text()


# ---------------------------------------------------------------- exact ground truth


def test_annotations_hold_object_ids_only_and_meta_boxes_match(dataset: tuple[Path, dict[str, Any]]) -> None:
    root, meta = dataset
    for name in NAMES:
        labels = labels_of(root, name)
        assert set(np.unique(labels).tolist()) <= set(range(OBJECTS + 1))
        for frame in meta["sequences"][name]["frames"]:
            figures = frame["figures"]
            assert all(f["role"] == "object" for f in figures)
            boxes = {f["object_id"]: f["box"] for f in figures}
            assert len(boxes) == len(figures)
            for object_id in range(1, OBJECTS + 1):
                assert boxes.get(object_id) == box_by_hand(labels[frame["frame"]] == object_id), (name, frame)


def test_annotations_are_the_painted_code_layer(dataset: tuple[Path, dict[str, Any]]) -> None:
    """The files are the id layer of the clip drawn from the sequence's own stream, pixel for pixel."""
    root, _ = dataset
    for index, name in enumerate(NAMES[:2]):
        clip, labels = clip_of(index), labels_of(root, name)
        for t in range(FRAMES):
            assert np.array_equal(paint_codes(clip.objects, t, HEIGHT, WIDTH) // PART_SLOTS, labels[t]), (name, t)


def test_prompts_click_each_object_on_its_first_visible_frame(dataset: tuple[Path, dict[str, Any]]) -> None:
    root, _ = dataset
    seen_total = 0
    for name in NAMES:
        labels = labels_of(root, name)
        prompts = PromptSet.load(root / "prompts" / f"{name}.json")
        prompts.validate(WIDTH, HEIGHT, FRAMES)
        seen = [k for k in range(1, OBJECTS + 1) if (labels == k).any()]
        assert prompts.object_ids == seen
        seen_total += len(seen)
        for prompt in prompts.prompts:
            visible = [t for t in range(FRAMES) if (labels[t] == prompt.object_id).any()]
            assert prompt.frame == visible[0]
            assert prompt.box is None and len(prompt.points) == 1 and prompt.points[0].positive
            point = prompt.points[0]
            mask = labels[prompt.frame] == prompt.object_id
            assert mask[int(point.y), int(point.x)]
            # the deepest pixel of the mask (equal depths may tie: compare depths, not points)
            assert depth_at(mask, int(point.x), int(point.y)) == pytest.approx(depth_at(mask, *deepest_point(mask)))
    assert seen_total >= 0.9 * SEQUENCES * OBJECTS  # nearly every object shows up


# ---------------------------------------------------------------- determinism


def test_same_seed_same_bytes_other_seed_different(tmp_path: Path) -> None:
    kwargs = {"sequences": 2, "frames": 4, "players": 4, "width": 160, "height": 96, "mode": "generic"}
    first = generate_dataset(tmp_path / "a", seed=3, **kwargs)
    second = generate_dataset(tmp_path / "b", seed=3, **kwargs)
    other = generate_dataset(tmp_path / "c", seed=4, **kwargs)
    assert first == second
    files = ["meta.json"] + [
        f"{kind}/seq00{s}{suffix}"
        for s in range(2)
        for kind, suffix in (("prompts", ".json"), ("Annotations", "/00000.png"), ("Annotations", "/00003.png"))
    ]
    for relative in files + [f"JPEGImages/seq001/{t:05d}.jpg" for t in range(4)]:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes(), relative
    assert other != first
    assert not np.array_equal(labels_of(tmp_path / "a", "seq000", 4), labels_of(tmp_path / "c", "seq000", 4))


# ---------------------------------------------------------------- what the clips are made of


def test_clips_draw_several_background_families_people_and_shapes() -> None:
    families, kinds, patterns = set(), set(), set()
    for index in range(12):
        clip = make_clip(np.random.default_rng([SEED, index]), 3, OBJECTS, 160, 96)
        families.add(clip.scene.family)
        kinds.update(obj.kind for obj in clip.objects)
        patterns.update(obj.shape.pattern for obj in clip.objects if obj.shape is not None)
    assert len(families) >= 4 and families <= set(FAMILIES)
    assert "person" in kinds and len(kinds & set(KINDS)) >= 3
    assert "plain" in patterns and len(patterns) >= 3  # two- and three-coloured shapes too
    for family in FAMILIES:  # every family paints a whole, non-flat picture
        for seed in range(40):
            scene = make_scene(np.random.default_rng(seed), 160, 96)
            if scene.family == family:
                assert scene.world.shape == (192, 320, 3) and scene.world.std() > 2, family
                break


def test_objects_span_small_shapes_to_large_people(dataset: tuple[Path, dict[str, Any]]) -> None:
    heights = [
        f["box"][3] - f["box"][1]
        for sequence in dataset[1]["sequences"].values()
        for frame in sequence["frames"]
        for f in frame["figures"]
    ]
    assert min(heights) < 0.06 * HEIGHT and max(heights) > 0.25 * HEIGHT


# ---------------------------------------------------------------- occlusion, crossing, camera


def test_hidden_pixels_belong_to_the_nearer_object_that_hides_them(dataset: tuple[Path, dict[str, Any]]) -> None:
    root, _ = dataset
    occluded_sequences = 0
    for index, name in enumerate(NAMES):
        clip, labels = clip_of(index), labels_of(root, name)
        lost_total = 0
        for t in range(FRAMES):
            for obj in clip.objects:
                alone = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
                obj.paint(alone, t)
                visible = labels[t] == obj.object_id
                assert not (visible & (alone == 0)).any()  # visible pixels are its own silhouette
                hiders = labels[t][(alone > 0) & ~visible]
                lost_total += hiders.size
                for hider in np.unique(hiders).tolist():
                    assert hider != 0, (name, t, obj.object_id)  # no object loses pixels to the background
                    other = clip.objects[hider - 1]
                    nearer = (float(other.depth[t]), -hider) < (float(obj.depth[t]), -obj.object_id)
                    assert nearer, (name, t, obj.object_id, hider)
        occluded_sequences += lost_total > 0
    assert occluded_sequences >= SEQUENCES - 1


def test_objects_1_and_2_cross_at_mid_clip(dataset: tuple[Path, dict[str, Any]]) -> None:
    _, meta = dataset
    crossed = 0
    for sequence in meta["sequences"].values():
        boxes = {f["object_id"]: f["box"] for f in sequence["frames"][FRAMES // 2]["figures"]}
        if 1 in boxes and 2 in boxes:
            a, b = boxes[1], boxes[2]
            crossed += a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    assert crossed >= SEQUENCES - 1


def test_the_camera_moves_the_background_by_a_shift(dataset: tuple[Path, dict[str, Any]]) -> None:
    root, _ = dataset
    for index, name in enumerate(NAMES):
        camera = clip_of(index).camera
        travel = np.hypot(camera.x[-1] - camera.x[0], camera.y[-1] - camera.y[0]) * camera.zoom.mean()
        assert travel >= 0.5 * (FRAMES - 1) * WIDTH / 640 - 1e-6  # at least half a pixel a frame at 640 px
        labels = labels_of(root, name)
        first = np.asarray(Image.open(root / "JPEGImages" / name / "00000.jpg"), dtype=np.int16)
        last = np.asarray(Image.open(root / "JPEGImages" / name / f"{FRAMES - 1:05d}.jpg"), dtype=np.int16)
        still = (labels[0] == 0) & (labels[-1] == 0)
        assert np.abs(first - last)[still].mean() > 1.5, name  # above JPEG and sensor noise
    # what the camera sees moves by exactly the pan: a 7 px step right shows the same picture 7 px to the left
    scene = clip_of(0).scene
    here = view(scene, 300.0, 150.0, 1.0, WIDTH, HEIGHT)
    there = view(scene, 307.0, 150.0, 1.0, WIDTH, HEIGHT)
    assert np.array_equal(here[:, 7:], there[:, :-7])
    assert not np.array_equal(here, there)


def test_entering_objects_come_into_view_after_the_start(tmp_path: Path) -> None:
    kwargs = {"frames": 16, "players": 5, "width": 320, "height": 180, "seed": 3, "mode": "generic"}
    frames = generate_dataset(tmp_path, sequences=3, entering=2, **kwargs)["sequences"]
    for sequence in frames.values():
        seen = [{f["object_id"] for f in frame["figures"]} for frame in sequence["frames"]]
        assert 4 not in seen[0] and 5 not in seen[0]
        assert any(4 in ids for ids in seen) and any(5 in ids for ids in seen)


# ---------------------------------------------------------------- arguments and command line


def test_unknown_mode_is_one_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(SyntheticError, match=r"^mode must be one of pitch, generic, got 'pitches'\.$"):
        generate_dataset(tmp_path / "out", mode="pitches")
    assert not (tmp_path / "out").exists()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "playerseg.synthetic", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_generic_mode(tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = run_cli(
        str(out), "--mode", "generic", "--frames", "3", "--players", "2", "--width", "160", "--height", "96"
    )
    assert result.returncode == 0, result.stderr
    assert "2 objects (generic mode)" in result.stdout and str(out) in result.stdout
    meta = json.loads((out / "meta.json").read_text())
    assert meta["sequences"]["seq000"]["mode"] == "generic"
    assert len(list((out / "Annotations" / "seq000").iterdir())) == 3


def test_cli_rejects_an_unknown_mode_with_one_sentence(tmp_path: Path) -> None:
    result = run_cli(str(tmp_path / "data"), "--mode", "beach")
    assert result.returncode == 2
    message = result.stderr.strip().splitlines()[-1]
    assert "--mode" in message and "beach" in message and "pitch" in message and "generic" in message
    assert message.count(". ") == 0 and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()
