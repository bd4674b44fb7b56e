"""The auto-labeler driven by imported detections (boxes of everyone in the synthetic meta.json): the default filter
keeps the players and drops the referee, each player keeps one track id, an entering player gets a new id without
resetting the others.
SAM2 is the real test-size model (random weights), so what is asserted is the id bookkeeping, not mask quality."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from playerseg.autolabel.detections import DetectionsError, parse_detections, read_detections_file
from playerseg.autolabel.detector import Detection
from playerseg.autolabel.labeler import AutoLabelJob, AutoLabelSettings, duplicate_reasons, run_autolabel
from playerseg.io.masks import read_palette_png
from playerseg.synthetic.dataset import generate_dataset

FRAMES, PLAYERS, ENTERING = 14, 6, 1  # 5 players from frame 0: enough people to tell the referee by colour
TRACKER = "test-sam2.1-tiny-128"
EVERY = 1  # boxes on every frame, like ground-truth boxes; the random-weight masks give no help in matching


def detectable(box: list[float]) -> bool:
    """What a detector would see: not a sliver at the frame edge (a player half a body outside the view is fine)."""
    return box[2] - box[0] >= 8 and box[3] - box[1] >= 16


def meta_detections(meta: dict[str, Any], every: int) -> dict[str, Any]:
    """The import format built from meta.json: every detectable figure (players, referee, staff, crowd) on every
    `every`-th frame."""
    frames = meta["sequences"]["seq000"]["frames"]
    return {
        "frames": {
            str(f["frame"]): [
                {"box": g["box"], "score": 0.9, "label": "person"} for g in f["figures"] if detectable(g["box"])
            ]
            for f in frames
            if f["frame"] % every == 0
        }
    }


def role_of(meta: dict[str, Any], frame: int, box: list[float]) -> tuple[str, int | None]:
    for figure in meta["sequences"]["seq000"]["frames"][frame]["figures"]:
        if np.allclose(figure["box"], box, atol=0.01):
            return figure["role"], figure["object_id"]
    raise AssertionError(f"no figure with box {box} on frame {frame}")


@pytest.fixture(scope="module")
def autolabelled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("autolabel")
    meta = generate_dataset(
        root / "data", frames=FRAMES, players=PLAYERS, width=320, height=180, seed=4, entering=ENTERING
    )
    (root / "detections.json").write_text(json.dumps(meta_detections(meta, every=EVERY)))
    job = AutoLabelJob(
        clip=str(root / "data" / "videos" / "seq000.mp4"),
        out=str(root / "run"),
        tracker=TRACKER,
        detections=str(root / "detections.json"),
        settings=AutoLabelSettings(),  # the defaults: the officials go when their jersey colour stands apart
        device="cpu",
    )
    run_autolabel(job, command="test")
    return root / "run", meta


def test_the_filter_keeps_exactly_the_players(autolabelled: tuple[Path, dict[str, Any]]) -> None:
    run, meta = autolabelled
    records = json.loads((run / "detections.json").read_text())
    expected = sum(
        detectable(g["box"])
        for f in meta["sequences"]["seq000"]["frames"]
        if f["frame"] % EVERY == 0
        for g in f["figures"]
    )
    assert len(records) == expected, "one entry per detection"
    for record in records:
        role, figure = role_of(meta, record["frame"], record["box"])
        # spelled out: pytest's repr of the record would cut off the reason and the track id
        why = (
            f"frame {record['frame']} {role} {figure}: kept={record['kept']} reason={record['reason']!r} "
            f"track={record['track_id']} cluster={record['cluster']}"
        )
        assert record["kept"] == (role == "player"), why
        assert (record["reason"] is None) == record["kept"]
        assert (record["track_id"] is not None) == record["kept"]
        if role == "referee":
            assert record["reason"] == "official's colour", why
    referee_frames = {r["frame"] for r in records if role_of(meta, r["frame"], r["box"])[0] == "referee"}
    assert referee_frames == set(range(FRAMES)), "the referee was in view on every detection frame"
    officials = json.loads((run / "run.json").read_text())["autolabel"]["officials"]
    assert officials["teams"] == "auto" and officials["removed"] and officials["reason"] is None
    assert officials["dropped"] == len(referee_frames) == officials["frames_removed"]
    assert officials["frames_not_removed"] == 0 and officials["separation"] >= officials["needed"] == 2.0


def test_one_track_id_per_player_and_the_entering_player_gets_a_new_one(
    autolabelled: tuple[Path, dict[str, Any]],
) -> None:
    run, meta = autolabelled
    facts = json.loads((run / "run.json").read_text())
    assert facts["track_ids"] == list(range(1, PLAYERS + 1)), "one track per player, no spare ids"
    ids_of_player: dict[int, list[int]] = {}  # per player, the track id of each of its detections, in frame order
    for record in json.loads((run / "detections.json").read_text()):
        if record["kept"]:
            _, player = role_of(meta, record["frame"], record["box"])
            ids_of_player.setdefault(player, []).append(record["track_id"])
    assert len({ids[0] for ids in ids_of_player.values()}) == PLAYERS, "each player starts with an id of its own"
    for player, ids in ids_of_player.items():
        assert ids[-1] == ids[0], f"player {player} ended with another id: {ids}"
        # players 1 and 3 wear the same kit and cross, one hiding the other: on the frame where their boxes
        # coincide, box-only matching (random-weight masks give no help) may swap them for that one frame
        allowed = 1 if player in (1, 3) else 0
        assert sum(i != ids[0] for i in ids) <= allowed, f"player {player} changed id: {ids}"
    ids_of_player_sets = {player: set(ids) for player, ids in ids_of_player.items()}

    entering = PLAYERS
    entered = min(
        f["frame"]
        for f in meta["sequences"]["seq000"]["frames"]
        for g in f["figures"]
        if g["object_id"] == entering and f["frame"] % EVERY == 0 and detectable(g["box"])
    )
    assert entered > 0
    starts = {e["track_id"]: e["frame"] for e in facts["autolabel"]["id_events"] if e["kind"] == "start"}
    entering_track = next(iter(ids_of_player_sets[entering]))
    assert starts[entering_track] == entered
    assert all(frame == 0 for track, frame in starts.items() if track != entering_track), "the others began at 0"
    kinds = {e["kind"] for e in facts["autolabel"]["id_events"]}
    assert kinds == {"start"}, "no track ended or restarted: the tracker was not reset"
    assert facts["autolabel"]["suspected_id_switches"] == 0


def test_masks_follow_the_tracks(autolabelled: tuple[Path, dict[str, Any]]) -> None:
    run, meta = autolabelled
    facts = json.loads((run / "run.json").read_text())
    starts = {e["track_id"]: e["frame"] for e in facts["autolabel"]["id_events"] if e["kind"] == "start"}
    late = max(starts, key=starts.get)
    for frame in range(FRAMES):
        labels = read_palette_png(run / "masks" / f"{frame:05d}.png")
        assert labels.shape == (180, 320)
        if frame < starts[late]:
            assert not (labels == late).any(), "no mask before the player entered"
    with open(run / "frames.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    detect = [float(r["detect_ms"]) for r in rows]
    assert all(d > 0 for d in detect), "every frame had boxes to filter and match"
    assert [int(r["prompt_frame"]) for r in rows] == [1] + [0] * (FRAMES - 1)
    assert facts["random_weights"] and facts["autolabel"]["detector"]["detector"] == "imported"


def test_duplicates_are_the_lower_scored_overlapping_boxes() -> None:
    boxes = [
        Detection((0, 0, 10, 30), 0.9, "person"),
        Detection((0, 1, 10, 31), 0.8, "person"),
        Detection((40, 0, 50, 30), 0.7, "person"),
    ]
    assert duplicate_reasons(boxes, 0.7) == [None, "duplicate box", None]


def test_detections_file_is_validated_with_one_sentence(tmp_path: Path) -> None:
    parsed = parse_detections({"frames": {"4": [{"box": [1, 2, 3, 4]}], "0": []}})
    assert list(parsed) == [0, 4] and parsed[4][0] == Detection((1.0, 2.0, 3.0, 4.0), 1.0, "person")
    bad = [
        ({"frames": []}, '"frames"'),
        ({"frames": {"x": []}}, "frame keys"),
        ({"frames": {"0": [{"box": [1, 2, 3]}]}}, "four numbers"),
        ({"frames": {"0": [{"box": [5, 2, 3, 4]}]}}, "empty"),
        ({"frames": {"0": [{"box": [1, 2, 3, 4], "score": 2}]}}, "score"),
    ]
    for payload, words in bad:
        with pytest.raises(DetectionsError, match=words):
            parse_detections(payload)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(DetectionsError, match="not valid JSON"):
        read_detections_file(tmp_path / "broken.json")
    with pytest.raises(DetectionsError, match="does not exist"):
        read_detections_file(tmp_path / "missing.json")
