"""Synthetic pitch clips: DAVIS layout, ground truth that agrees with itself to the pixel, prompts, determinism,
occlusion, the H.264 video and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from playerseg.io.masks import bbox_from_mask, read_palette_png
from playerseg.io.prompts import PromptSet
from playerseg.io.video import probe_video
from playerseg.synthetic.dataset import SyntheticError, generate_dataset

REPO_ROOT = Path(__file__).resolve().parents[2]
SEQUENCES, FRAMES, PLAYERS, WIDTH, HEIGHT, FPS, SEED = 2, 12, 3, 320, 180, 12.0, 5
NAMES = ["seq000", "seq001"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("synthetic")
    meta = generate_dataset(
        out, sequences=SEQUENCES, frames=FRAMES, players=PLAYERS, width=WIDTH, height=HEIGHT, fps=FPS, seed=SEED
    )
    return out, meta


def labels_of(root: Path, name: str, frames: int = FRAMES) -> np.ndarray:
    return np.stack([read_palette_png(root / "Annotations" / name / f"{t:05d}.png") for t in range(frames)])


def box_by_hand(mask: np.ndarray) -> list[int] | None:
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    return [int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1]


def depth(mask: np.ndarray, x: int, y: int) -> float:
    """Euclidean distance from (x, y) to the nearest pixel outside the mask (outside the frame counts)."""
    padded = np.pad(mask, 1)
    rows, cols = np.nonzero(~padded)
    return float(np.sqrt(((rows - (y + 1)) ** 2 + (cols - (x + 1)) ** 2).min()))


# ---------------------------------------------------------------- layout


def test_every_file_of_the_davis_layout_is_written(dataset: tuple[Path, dict[str, Any]]) -> None:
    root, meta = dataset
    expected = [f"{t:05d}" for t in range(FRAMES)]
    for name in NAMES:
        assert sorted(p.stem for p in (root / "JPEGImages" / name).iterdir()) == expected
        assert sorted(p.stem for p in (root / "Annotations" / name).iterdir()) == expected
        assert all(p.suffix == ".jpg" for p in (root / "JPEGImages" / name).iterdir())
        assert all(p.suffix == ".png" for p in (root / "Annotations" / name).iterdir())
        with Image.open(root / "JPEGImages" / name / "00000.jpg") as image:
            assert image.format == "JPEG" and image.size == (WIDTH, HEIGHT) and image.mode == "RGB"
        with Image.open(root / "Annotations" / name / "00000.png") as image:
            assert image.mode == "P" and image.size == (WIDTH, HEIGHT)
        assert (root / "videos" / f"{name}.mp4").is_file()
        assert (root / "prompts" / f"{name}.json").is_file()
    assert sorted(p.name for p in (root / "videos").iterdir()) == ["seq000.mp4", "seq001.mp4"]
    assert json.loads((root / "meta.json").read_text()) == meta
    assert list(meta["sequences"]) == NAMES
    for sequence in meta["sequences"].values():
        assert (sequence["width"], sequence["height"], sequence["fps"]) == (WIDTH, HEIGHT, FPS)
        assert [f["frame"] for f in sequence["frames"]] == list(range(FRAMES))


def test_annotations_hold_only_player_ids(dataset: tuple[Path, dict[str, Any]]) -> None:
    root, _ = dataset
    for name in NAMES:
        labels = labels_of(root, name)
        assert labels.shape == (FRAMES, HEIGHT, WIDTH)
        assert set(np.unique(labels).tolist()) <= set(range(PLAYERS + 1))
        assert set(np.unique(labels).tolist()) == set(range(PLAYERS + 1))  # every player shows up somewhere


def test_meta_player_boxes_are_the_boxes_of_the_annotations(dataset: tuple[Path, dict[str, Any]]) -> None:
    root, meta = dataset
    for name in NAMES:
        labels = labels_of(root, name)
        for frame in meta["sequences"][name]["frames"]:
            players = [f for f in frame["figures"] if f["role"] == "player"]
            ids = [f["object_id"] for f in players]
            assert len(ids) == len(set(ids))
            boxes = {f["object_id"]: f["box"] for f in players}
            for object_id in range(1, PLAYERS + 1):
                mask = labels[frame["frame"]] == object_id
                expected = box_by_hand(mask)
                assert boxes.get(object_id) == expected, (name, frame["frame"], object_id)
                assert bbox_from_mask(mask) == (None if expected is None else tuple(expected))
            assert set(boxes) <= set(range(1, PLAYERS + 1))


def test_other_figures_have_roles_and_no_ids(dataset: tuple[Path, dict[str, Any]]) -> None:
    _, meta = dataset
    for sequence in meta["sequences"].values():
        seen = set()
        for frame in sequence["frames"]:
            for figure in frame["figures"]:
                assert figure["role"] in {"player", "referee", "crowd", "staff"}
                if figure["role"] == "player":
                    assert isinstance(figure["object_id"], int)
                else:
                    assert figure["object_id"] is None
                x0, y0, x1, y1 = figure["box"]
                assert 0 <= x0 < x1 <= WIDTH and 0 <= y0 < y1 <= HEIGHT  # visible pixels only: inside the frame
                seen.add(figure["role"])
        assert {"referee", "crowd"} <= seen


def test_crowd_figures_stay_in_the_stands_above_the_pitch(dataset: tuple[Path, dict[str, Any]]) -> None:
    _, meta = dataset
    for sequence in meta["sequences"].values():
        crowd = [f["box"] for frame in sequence["frames"] for f in frame["figures"] if f["role"] == "crowd"]
        players = [f["box"] for frame in sequence["frames"] for f in frame["figures"] if f["role"] == "player"]
        assert max(box[3] for box in crowd) < min(box[3] for box in players)  # feet of players are lower


# ---------------------------------------------------------------- prompts


def test_prompts_click_deep_inside_each_player_on_its_first_visible_frame(
    dataset: tuple[Path, dict[str, Any]],
) -> None:
    root, _ = dataset
    for name in NAMES:
        labels = labels_of(root, name)
        prompts = PromptSet.load(root / "prompts" / f"{name}.json")
        prompts.validate(WIDTH, HEIGHT, FRAMES)
        assert prompts.object_ids == list(range(1, PLAYERS + 1))
        assert len(prompts) == PLAYERS
        for prompt in prompts.prompts:
            visible = [t for t in range(FRAMES) if (labels[t] == prompt.object_id).any()]
            assert prompt.frame == visible[0]
            assert prompt.box is None and len(prompt.points) == 1 and prompt.points[0].positive
            point = prompt.points[0]
            x, y = int(point.x), int(point.y)
            assert (x, y) == (point.x, point.y)  # whole pixels
            mask = labels[prompt.frame] == prompt.object_id
            assert mask[y, x]
            # the deepest pixel of the visible mask, not merely a pixel inside it
            inside = np.argwhere(mask)
            deepest = max(depth(mask, int(c), int(r)) for r, c in inside)
            assert depth(mask, x, y) == pytest.approx(deepest, abs=1e-6)
            assert depth(mask, x, y) >= 2.0  # the four neighbours are on the player too


# ---------------------------------------------------------------- determinism


def test_same_seed_same_ground_truth_other_seed_different(tmp_path: Path) -> None:
    kwargs = {"sequences": 1, "frames": 5, "players": 3, "width": 160, "height": 96}
    first = generate_dataset(tmp_path / "a", seed=3, **kwargs)
    second = generate_dataset(tmp_path / "b", seed=3, **kwargs)
    other = generate_dataset(tmp_path / "c", seed=4, **kwargs)
    assert first == second
    for relative in ["meta.json", "prompts/seq000.json"] + [f"Annotations/seq000/{t:05d}.png" for t in range(5)]:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes(), relative
    for t in range(5):
        a = Image.open(tmp_path / "a" / "JPEGImages" / "seq000" / f"{t:05d}.jpg")
        b = Image.open(tmp_path / "b" / "JPEGImages" / "seq000" / f"{t:05d}.jpg")
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert other != first
    assert (tmp_path / "a" / "meta.json").read_bytes() != (tmp_path / "c" / "meta.json").read_bytes()
    assert not np.array_equal(labels_of(tmp_path / "a", "seq000", 5), labels_of(tmp_path / "c", "seq000", 5))


def test_sequences_differ_from_each_other(dataset: tuple[Path, dict[str, Any]]) -> None:
    root, meta = dataset
    assert meta["sequences"]["seq000"]["frames"] != meta["sequences"]["seq001"]["frames"]
    assert not np.array_equal(labels_of(root, "seq000"), labels_of(root, "seq001"))


# ---------------------------------------------------------------- what makes it hard


def test_players_cross_and_hide_each_other(dataset: tuple[Path, dict[str, Any]]) -> None:
    root, meta = dataset
    for name in NAMES:
        labels = labels_of(root, name)
        areas = np.array([[(frame == k).sum() for k in range(1, PLAYERS + 1)] for frame in labels])
        # someone loses a large share of its pixels behind another player at some point
        assert (areas.min(axis=0) < 0.75 * np.median(areas, axis=0)).any()
        overlaps = 0
        for frame in meta["sequences"][name]["frames"]:
            boxes = [f["box"] for f in frame["figures"] if f["role"] == "player"]
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    overlaps += a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
        assert overlaps > 0


def test_the_nearer_figure_hides_the_farther(dataset: tuple[Path, dict[str, Any]]) -> None:
    """Where a player is most hidden, a figure standing nearer (lower feet) overlaps it: depth order by y."""
    root, meta = dataset
    for name in NAMES:
        labels = labels_of(root, name)
        areas = np.array([[(frame == k).sum() for k in range(1, PLAYERS + 1)] for frame in labels], dtype=float)
        ratio = areas / np.median(areas, axis=0)
        t, player = np.unravel_index(int(np.argmin(ratio)), ratio.shape)
        figures = meta["sequences"][name]["frames"][t]["figures"]
        hidden = next(f["box"] for f in figures if f["object_id"] == player + 1)
        nearer = [
            f
            for f in figures
            if f["object_id"] != player + 1
            and f["box"][0] < hidden[2]
            and hidden[0] < f["box"][2]
            and f["box"][1] < hidden[3]
            and hidden[1] < f["box"][3]
            and f["box"][3] > hidden[3]
        ]
        assert nearer, (name, t, player + 1)


def test_camera_pans(dataset: tuple[Path, dict[str, Any]]) -> None:
    """The background moves between the first and last frame (stripes, board and stands shift)."""
    root, _ = dataset
    first = np.asarray(Image.open(root / "JPEGImages" / "seq000" / "00000.jpg"), dtype=np.int16)
    last = np.asarray(Image.open(root / "JPEGImages" / "seq000" / f"{FRAMES - 1:05d}.jpg"), dtype=np.int16)
    labels = labels_of(root, "seq000")
    still = (labels[0] == 0) & (labels[-1] == 0)
    assert np.abs(first - last)[still].mean() > 5  # far above JPEG/sensor noise


def test_pictures_show_the_players_where_the_masks_are(dataset: tuple[Path, dict[str, Any]]) -> None:
    """Player 2 (the team that is not green) differs in colour from the grass around its mask."""
    root, _ = dataset
    for name in NAMES:
        labels = labels_of(root, name)
        for t in range(0, FRAMES, 4):
            mask = labels[t] == 2
            if mask.sum() < 40:
                continue
            core = mask & np.roll(mask, 1, 0) & np.roll(mask, -1, 0) & np.roll(mask, 1, 1) & np.roll(mask, -1, 1)
            box = bbox_from_mask(mask)
            assert box is not None
            x0, y0, x1, y1 = box
            ring = np.zeros_like(mask)
            ring[max(y0 - 4, 0) : y1 + 4, max(x0 - 6, 0) : x1 + 6] = True
            ring &= labels[t] == 0
            rgb = np.asarray(Image.open(root / "JPEGImages" / name / f"{t:05d}.jpg"), dtype=np.float64)
            difference = np.abs(np.median(rgb[core], axis=0) - np.median(rgb[ring], axis=0)).max()
            assert difference > 30, (name, t)


# ---------------------------------------------------------------- video


def test_video_has_every_frame_at_the_frame_size(dataset: tuple[Path, dict[str, Any]]) -> None:
    root, _ = dataset
    for name in NAMES:
        info = probe_video(root / "videos" / f"{name}.mp4")
        assert (info.width, info.height, info.frame_count) == (WIDTH, HEIGHT, FRAMES)
        assert info.codec == "h264"
        assert info.fps == pytest.approx(FPS)


# ---------------------------------------------------------------- arguments and re-runs


@pytest.mark.parametrize(
    ("argument", "value"),
    [("players", 0), ("width", 10), ("height", 10), ("frames", 0), ("sequences", 0), ("fps", 0.0), ("seed", -1)],
)
def test_bad_arguments_raise_one_clear_error_and_write_nothing(tmp_path: Path, argument: str, value: Any) -> None:
    with pytest.raises(SyntheticError, match=argument):
        generate_dataset(tmp_path / "out", **{argument: value})
    assert not (tmp_path / "out").exists()


def test_ten_players(tmp_path: Path) -> None:
    generate_dataset(tmp_path, frames=3, players=10, width=320, height=180, seed=2)
    labels = labels_of(tmp_path, "seq000", 3)
    assert set(np.unique(labels).tolist()) <= set(range(11))
    prompts = PromptSet.load(tmp_path / "prompts" / "seq000.json")
    for prompt in prompts.prompts:
        point = prompt.points[0]
        assert labels[prompt.frame][int(point.y), int(point.x)] == prompt.object_id


def test_entering_players_appear_after_the_first_frame(tmp_path: Path) -> None:
    kwargs = {"frames": 16, "players": 5, "width": 320, "height": 180, "seed": 3}
    meta = generate_dataset(tmp_path / "in", entering=2, **kwargs)["sequences"]["seq000"]["frames"]
    plain = generate_dataset(tmp_path / "plain", **kwargs)["sequences"]["seq000"]["frames"]
    first_seen = {
        player: min(f["frame"] for f in meta for g in f["figures"] if g["object_id"] == player)
        for player in range(1, 6)
    }
    assert first_seen[1] == first_seen[2] == first_seen[3] == 0
    assert 0 < first_seen[4] < first_seen[5] < 16, "players 4 and 5 run in, one after the other"
    prompts = {p.object_id: p.frame for p in PromptSet.load(tmp_path / "in" / "prompts" / "seq000.json").prompts}
    assert prompts[4] == first_seen[4] and prompts[5] == first_seen[5]
    assert all({1, 2, 3} <= {g["object_id"] for g in f["figures"]} for f in plain + meta)
    with pytest.raises(SyntheticError, match="entering"):
        generate_dataset(tmp_path / "bad", entering=3, **kwargs)


def test_rerun_with_fewer_frames_leaves_no_stale_frames(tmp_path: Path) -> None:
    generate_dataset(tmp_path, frames=6, width=96, height=64)
    generate_dataset(tmp_path, frames=4, width=96, height=64)
    assert len(list((tmp_path / "JPEGImages" / "seq000").iterdir())) == 4
    assert len(list((tmp_path / "Annotations" / "seq000").iterdir())) == 4
    assert probe_video(tmp_path / "videos" / "seq000.mp4").frame_count == 4


# ---------------------------------------------------------------- command line


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "playerseg.synthetic", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_writes_a_dataset(tmp_path: Path) -> None:
    out = tmp_path / "data"
    result = run_cli(str(out), "--frames", "4", "--players", "2", "--width", "160", "--height", "96", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    meta = json.loads((out / "meta.json").read_text())
    assert list(meta["sequences"]) == ["seq000"]
    assert len(list((out / "Annotations" / "seq000").iterdir())) == 4
    assert probe_video(out / "videos" / "seq000.mp4").frame_count == 4


@pytest.mark.parametrize(("flag", "value"), [("--players", "0"), ("--width", "10")])
def test_cli_rejects_bad_arguments(tmp_path: Path, flag: str, value: str) -> None:
    result = run_cli(str(tmp_path / "data"), flag, value)
    assert result.returncode == 2
    assert flag.lstrip("-") in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()
