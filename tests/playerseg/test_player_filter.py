"""Tests for playerseg.autolabel.player_filter: players kept, crowd / staff / officials rejected with a reason.

Three kinds of frames: the procedural pitch clips (meta.json knows every figure's role), the real judo frames
(boxes placed by hand; skipped when ../shared/data is absent) and small frames painted here, where every number
can be worked out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from playerseg.autolabel.detector import Detection
from playerseg.autolabel.player_filter import (
    FilterError,
    FilterResult,
    FilterSettings,
    filter_players,
    load_polygon,
    pitch_mask_auto,
    pitch_mask_from_polygon,
)
from playerseg.synthetic.dataset import generate_dataset

PITCH_REASONS = {"outside pitch", "at pitch edge", "too small"}


def person(box: tuple[float, float, float, float] | list[int], score: float = 0.9) -> Detection:
    return Detection(box=tuple(float(v) for v in box), score=score, label="person")  # type: ignore[arg-type]


def read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def assert_well_formed(result: FilterResult, detections: list[Detection]) -> None:
    """Decisions follow the input order; a box is kept exactly when it has no reason."""
    assert [decision.detection for decision in result.decisions] == detections
    for decision in result.decisions:
        assert decision.kept == (decision.reason is None)
    assert result.kept == [d.detection for d in result.decisions if d.kept]
    assert result.rejected == [d for d in result.decisions if not d.kept]


# ---------------------------------------------------------------------------------------------------------------
# procedural pitch clips: every figure of every role becomes a detection


@pytest.fixture(scope="module")
def pitch_clips(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, dict[str, Any]]]:
    """Two clips: 6 players (seed 0) and 10 players (seed 1), 12 frames each, with referee, staff and crowd."""
    clips = []
    for seed, players in ((0, 6), (1, 10)):
        root = tmp_path_factory.mktemp(f"pitch_s{seed}_p{players}")
        meta = generate_dataset(root, sequences=1, frames=12, players=players, seed=seed)
        clips.append((root, meta["sequences"]["seq000"]))
    return clips


def clip_frames(clips: list[tuple[Path, dict[str, Any]]]) -> list[tuple[np.ndarray, list[dict[str, Any]]]]:
    frames = []
    for root, sequence in clips:
        for frame in sequence["frames"]:
            frames.append((read_rgb(root / "JPEGImages" / "seq000" / f"{frame['frame']:05d}.jpg"), frame["figures"]))
    return frames


@pytest.mark.parametrize("settings", [FilterSettings(), FilterSettings(teams="on")], ids=["default", "teams-on"])
def test_pitch_clips_keep_exactly_the_players(
    pitch_clips: list[tuple[Path, dict[str, Any]]], settings: FilterSettings
) -> None:
    # the default removes the referee because the jersey colours separate clearly on every frame
    checked_roles: set[str] = set()
    for rgb, figures in clip_frames(pitch_clips):
        detections = [person(figure["box"]) for figure in figures]
        result = filter_players(rgb, detections, settings)
        assert_well_formed(result, detections)
        assert result.officials is not None and result.officials.removed, result.officials
        assert result.officials.separation is not None and result.officials.separation >= 2.0
        kept_boxes = [list(d.detection.box) for d in result.decisions if d.kept]
        assert kept_boxes == [[float(v) for v in f["box"]] for f in figures if f["role"] == "player"]
        labels = {cluster.index: cluster.label for cluster in result.clusters}
        for figure, decision in zip(figures, result.decisions, strict=True):
            checked_roles.add(figure["role"])
            if figure["role"] == "referee":
                assert decision.reason == "official's colour"
                assert labels[decision.cluster] == "officials"
            elif figure["role"] in ("staff", "crowd"):
                assert decision.reason in PITCH_REASONS, figure
                assert decision.cluster is None  # judged before the colours: never clustered
            elif decision.cluster is not None:
                assert labels[decision.cluster] in ("team 1", "team 2")
    assert checked_roles == {"player", "referee", "staff", "crowd"}


def test_pitch_clips_without_teams_reject_crowd_and_staff(pitch_clips: list[tuple[Path, dict[str, Any]]]) -> None:
    for rgb, figures in clip_frames(pitch_clips):
        detections = [person(figure["box"]) for figure in figures]
        result = filter_players(rgb, detections, FilterSettings(teams="off"))
        assert_well_formed(result, detections)
        assert result.clusters == [] and result.officials is None
        for figure, decision in zip(figures, result.decisions, strict=True):
            if figure["role"] in ("player", "referee"):
                # without jersey colours the referee is just another person running on the pitch: kept
                assert decision.kept, figure
            else:
                assert decision.reason in PITCH_REASONS, figure
            assert decision.cluster is None


def test_pitch_mask_auto_on_a_pitch_clip(pitch_clips: list[tuple[Path, dict[str, Any]]]) -> None:
    root, sequence = pitch_clips[0]
    rgb = read_rgb(root / "JPEGImages" / "seq000" / "00000.jpg")
    mask = pitch_mask_auto(rgb)
    height = rgb.shape[0]
    assert mask.shape == rgb.shape[:2] and mask.dtype == bool
    assert not mask[: round(0.2 * height)].any()  # the stands (generator: rows above 20% of the height)
    # the pitch below the far touchline, players standing on it included (their holes are filled)
    assert mask[round(0.35 * height) :].mean() > 0.99


# ---------------------------------------------------------------------------------------------------------------
# real judo frames: two fighters on the green mat, five people around it


JUDO_OTHERS = [
    (0, 143, 97, 298),  # kneeling at the left, on the red border
    (38, 73, 102, 225),  # standing at the left, behind him
    (627, 78, 698, 238),  # standing centre-right, on the red strip behind the mat
    (760, 70, 832, 262),  # standing at the far right
    (778, 180, 854, 322),  # sitting at the bottom right, on the red border
]
JUDO_FIGHTERS = {
    0: [(322, 25, 442, 398), (385, 20, 530, 418)],
    13: [(302, 105, 428, 382), (385, 108, 530, 420)],
}


@pytest.mark.parametrize("frame", [0, 13])
@pytest.mark.parametrize("teams", ["off", "auto", "on"])
def test_judo_keeps_the_two_fighters(judo_dir: Path, frame: int, teams: str) -> None:
    rgb = read_rgb(judo_dir / "JPEGImages" / f"{frame:05d}.jpg")
    detections = [person(box) for box in JUDO_FIGHTERS[frame] + JUDO_OTHERS]
    result = filter_players(rgb, detections, FilterSettings(pitch="auto", teams=teams))
    assert_well_formed(result, detections)
    assert result.kept == detections[:2]
    for decision in result.decisions[2:]:
        assert decision.reason in ("outside pitch", "at pitch edge")


def test_judo_pitch_mask_is_the_green_mat(judo_dir: Path) -> None:
    mask = pitch_mask_auto(read_rgb(judo_dir / "JPEGImages" / "00000.jpg"))
    on_mat = [(150, 420), (600, 300), (250, 250), (700, 400), (60, 400)]
    off_mat = [(30, 320), (600, 226), (760, 270), (845, 330), (200, 212), (600, 60), (100, 30)]  # red, floor, wall
    assert all(mask[y, x] for x, y in on_mat)
    assert not any(mask[y, x] for x, y in off_mat)


# ---------------------------------------------------------------------------------------------------------------
# painted frames: grass below row 60, dark stands above, people drawn as head, shirt, shorts and legs

HEIGHT, WIDTH, STANDS = 240, 320, 60
GRASS = (60, 130, 50)
SKIN = (200, 150, 120)


def painted_pitch() -> np.ndarray:
    rng = np.random.default_rng(0)
    frame = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    frame[:STANDS] = (50, 50, 66)
    frame[STANDS:] = GRASS
    noise = rng.integers(-4, 5, frame.shape)
    return np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def paint_person(frame: np.ndarray, box: tuple[int, int, int, int], shirt: tuple[int, int, int]) -> None:
    """A standing figure that fills the box: head, shirt, dark shorts, two legs down to the bottom row."""
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    cx = (x0 + x1) // 2
    head = max(2, h // 14)
    cv2.circle(frame, (cx, y0 + head), head, SKIN, -1)
    frame[y0 + 2 * head : y0 + int(0.55 * h), x0:x1] = shirt
    frame[y0 + int(0.55 * h) : y0 + int(0.65 * h), x0 + w // 6 : x1 - w // 6] = (20, 20, 24)
    leg = max(1, w // 6)
    frame[y0 + int(0.65 * h) : y1, x0 + w // 6 : x0 + w // 6 + leg] = SKIN
    frame[y0 + int(0.65 * h) : y1, x1 - w // 6 - leg : x1 - w // 6] = SKIN


RED, BLUE, YELLOW = (200, 30, 40), (30, 60, 170), (250, 225, 30)


def test_painted_pitch_mask_auto_fills_people_and_excludes_the_stands() -> None:
    frame = painted_pitch()
    paint_person(frame, (100, 120, 130, 200), RED)
    mask = pitch_mask_auto(frame)
    assert not mask[: STANDS - 2].any()
    assert mask[STANDS + 2 :].all()  # the red player standing on the grass is pitch too


def test_people_on_the_grass_are_kept_and_those_in_the_stands_are_not() -> None:
    frame = painted_pitch()
    on_grass, in_stands = (100, 120, 130, 200), (200, 5, 220, 55)
    paint_person(frame, on_grass, RED)
    paint_person(frame, in_stands, BLUE)
    detections = [person(on_grass), person(in_stands)]
    result = filter_players(frame, detections)
    assert [d.reason for d in result.decisions] == [None, "outside pitch"]
    assert result.pitch_mask is not None and result.pitch_mask.shape == (HEIGHT, WIDTH)
    # with the pitch rule off, both are people of a plausible size and shape
    off = filter_players(frame, detections, FilterSettings(pitch="off"))
    assert [d.kept for d in off.decisions] == [True, True]
    assert off.pitch_mask is None


def test_feet_near_the_far_edge_are_at_the_pitch_edge() -> None:
    frame = painted_pitch()
    # default margin 0.09 * 240 = 21.6 px: feet 8 px below the stands are on the rim, 100 px below are not
    by_the_edge, on_the_pitch = (60, 28, 80, 68), (150, 100, 180, 160)
    paint_person(frame, by_the_edge, BLUE)
    paint_person(frame, on_the_pitch, RED)
    detections = [person(by_the_edge), person(on_the_pitch)]
    assert [d.reason for d in filter_players(frame, detections).decisions] == ["at pitch edge", None]
    no_margin = filter_players(frame, detections, FilterSettings(edge_margin=0))
    assert [d.reason for d in no_margin.decisions] == [None, None]


def test_exclusion_click_rejects_exactly_the_box_containing_it() -> None:
    frame = painted_pitch()
    boxes = [(40, 100, 70, 180), (120, 110, 150, 190), (200, 120, 230, 200)]
    for box in boxes:
        paint_person(frame, box, RED)
    detections = [person(box) for box in boxes]
    clicked = filter_players(frame, detections, FilterSettings(exclusions=((135, 150),)))
    assert [d.reason for d in clicked.decisions] == [None, "excluded by click", None]
    missed = filter_players(frame, detections, FilterSettings(exclusions=((100, 150), (300, 30))))
    assert [d.kept for d in missed.decisions] == [True, True, True]


def test_max_count_keeps_the_highest_scores_among_the_survivors() -> None:
    frame = painted_pitch()
    boxes = [(20, 100, 50, 180), (80, 100, 110, 180), (140, 100, 170, 180), (200, 100, 230, 180)]
    for box in boxes:
        paint_person(frame, box, RED)
    tiny = (270, 150, 273, 156)  # the best score, but too small: it must not take a place
    detections = [person(box, score) for box, score in zip(boxes, (0.5, 0.9, 0.7, 0.9), strict=True)]
    detections.append(person(tiny, 0.99))
    two = filter_players(frame, detections, FilterSettings(max_count=2))
    assert [d.reason for d in two.decisions] == [
        "over max count",
        None,
        "over max count",
        None,
        "too small",
    ]
    three = filter_players(frame, detections, FilterSettings(max_count=3))
    assert [d.kept for d in three.decisions] == [False, True, True, True, False]
    assert_well_formed(three, detections)


def test_size_and_aspect_limits() -> None:
    frame = painted_pitch()  # 240 px tall
    settings = FilterSettings(pitch="off", min_height=0.2, max_height=0.5, min_aspect=1.0, max_aspect=4.0)
    cases = {
        (10, 100, 30, 147): "too small",  # 47 px = 0.196 of the height
        (40, 100, 60, 148): None,  # 48 px = 0.2 exactly
        (70, 100, 110, 220): None,  # 120 px = 0.5 exactly, aspect 3
        (120, 100, 180, 221): "too large",  # 121 px
        (190, 100, 250, 160): None,  # 60 x 60: aspect exactly 1.0, the range is closed
        (260, 100, 320, 150): "not person-shaped",  # aspect 50 / 60 < 1
        (10, 160, 20, 210): "not person-shaped",  # aspect 50 / 10 = 5 > 4
        (30, 160, 30, 210): "not person-shaped",  # no width at all
    }
    detections = [person(box) for box in cases]
    result = filter_players(frame, detections, settings)
    assert [d.reason for d in result.decisions] == list(cases.values())


def test_defaults_accept_a_close_up_and_reject_a_speck() -> None:
    frame = painted_pitch()
    detections = [person((100, 10, 200, 238)), person((5, 200, 7, 205))]
    result = filter_players(frame, detections, FilterSettings(pitch="off"))
    assert [d.reason for d in result.decisions] == [None, "too small"]


def test_polygon_pitch_rule_reads_the_ground_under_the_feet() -> None:
    frame = np.zeros((300, 300, 3), dtype=np.uint8)  # colours do not matter with a polygon
    square = ((100.0, 100.0), (200.0, 100.0), (200.0, 200.0), (100.0, 200.0))
    boxes = [
        (130, 60, 160, 150),  # feet in the middle of the square
        (130, 60, 160, 95),  # feet above it
        (220, 120, 250, 190),  # beside it
        (140, 150, 170, 260),  # feet below it
    ]
    result = filter_players(frame, [person(b) for b in boxes], FilterSettings(pitch="polygon", polygon=square))
    assert [d.reason for d in result.decisions] == [None, "outside pitch", "outside pitch", "outside pitch"]
    assert result.pitch_mask is not None
    assert result.pitch_mask.sum() == 100 * 100


def test_pitch_mask_from_polygon_by_hand() -> None:
    mask = pitch_mask_from_polygon([(1, 1), (4, 1), (4, 3), (1, 3)], height=5, width=6)
    expected = np.zeros((5, 6), dtype=bool)
    expected[1:3, 1:4] = True  # pixel centres (col + 0.5, row + 0.5) inside x 1..4, y 1..3
    np.testing.assert_array_equal(mask, expected)


def test_pitch_mask_from_polygon_matches_opencv_on_a_concave_shape() -> None:
    star = [(50.3, 5.2), (61.7, 38.1), (96.1, 38.6), (68.8, 59.4), (78.9, 92.3), (50.2, 72.1), (21.4, 92.6),
            (31.5, 59.2), (4.2, 38.4), (38.6, 38.3)]  # fmt: skip
    mask = pitch_mask_from_polygon(star, height=100, width=100)
    contour = np.array(star, dtype=np.float32).reshape(-1, 1, 2)
    checked = 0
    for row in range(100):
        for col in range(100):
            side = cv2.pointPolygonTest(contour, (col + 0.5, row + 0.5), False)
            if side != 0:  # centres exactly on an edge may go either way
                assert mask[row, col] == (side > 0), (row, col)
                checked += 1
    assert checked > 9900 and 0.2 < mask.mean() < 0.6


def test_teams_reject_the_lone_colour_as_officials() -> None:
    frame = painted_pitch()
    boxes = [(10 + 38 * i, 110 + 4 * (i % 3), 38 + 38 * i, 190 + 4 * (i % 3)) for i in range(7)]
    shirts = [RED, BLUE, RED, BLUE, YELLOW, RED, BLUE]
    for box, shirt in zip(boxes, shirts, strict=True):
        paint_person(frame, box, shirt)
    detections = [person(box) for box in boxes]
    result = filter_players(frame, detections, FilterSettings(teams="on"))
    assert [d.reason for d in result.decisions] == [None] * 4 + ["official's colour"] + [None] * 2
    labels = {c.index: c for c in result.clusters}
    assert sorted((c.label, c.members) for c in result.clusters) == [("officials", 1), ("team 1", 3), ("team 2", 3)]
    assert labels[result.decisions[0].cluster].rgb == pytest.approx(RED, abs=12)
    assert labels[result.decisions[4].cluster].rgb == pytest.approx(YELLOW, abs=12)
    assert result.decisions[0].cluster == result.decisions[2].cluster != result.decisions[1].cluster
    # the default removes the yellow shirt too: it stands far apart from both teams
    default = filter_players(frame, detections)
    assert [d.reason for d in default.decisions] == [d.reason for d in result.decisions]
    assert default.officials is not None and default.officials.removed and default.officials.reason is None
    # without teams nobody is judged on colour
    off = filter_players(frame, detections, FilterSettings(teams="off"))
    assert off.kept == detections and off.officials is None


@pytest.mark.parametrize(
    "shirts",
    [
        (RED, RED, YELLOW),
        (RED, RED, BLUE, YELLOW),
        (RED, BLUE, RED, BLUE),
        (RED, RED, RED, BLUE, RED),  # one kit split in two by k-means would make the lone blue an "official"
    ],
)
def test_teams_without_enough_evidence_reject_nobody_on_colour(shirts: tuple[tuple[int, int, int], ...]) -> None:
    # officials need a colour of their own next to two teams of at least two: with one blue and one yellow
    # shirt beside two red ones, either could be the other team
    frame = painted_pitch()
    boxes = [(15 + 60 * i, 110, 45 + 60 * i, 190) for i in range(len(shirts))]
    light = np.random.default_rng(1).integers(-20, 21, (len(shirts), 3))  # no two shirts lit quite the same
    for box, shirt, change in zip(boxes, shirts, light, strict=True):
        paint_person(frame, box, tuple(int(v) for v in np.clip(np.add(shirt, change), 0, 255)))
    detections = [person(box) for box in boxes]
    result = filter_players(frame, detections, FilterSettings(teams="on"))
    assert result.kept == detections
    assert "officials" not in [c.label for c in result.clusters]
    assert all(d.cluster is not None for d in result.decisions)


def shaded(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    r, g, b = (min(255, int(v * factor)) for v in colour)
    return (r, g, b)


def test_shirts_of_one_colour_keep_everyone_and_say_why() -> None:
    frame = painted_pitch()
    boxes = [(10 + 38 * i, 110 + 4 * (i % 3), 38 + 38 * i, 190 + 4 * (i % 3)) for i in range(7)]
    light = np.random.default_rng(1).integers(-20, 21, (len(boxes), 3))  # one kit, lit a little differently
    for box, change in zip(boxes, light, strict=True):
        paint_person(frame, box, tuple(int(v) for v in np.clip(np.add(RED, change), 0, 255)))
    detections = [person(box) for box in boxes]
    for teams in ("auto", "on"):
        result = filter_players(frame, detections, FilterSettings(teams=teams))
        assert result.kept == detections
        assert [c.label for c in result.clusters] == ["team 1"]
        officials = result.officials
        assert officials is not None and not officials.removed
        assert officials.reason == "jersey colours did not separate clearly"
        assert officials.separation is not None and officials.separation < officials.needed == 2.0
        assert officials.colours == 7


@pytest.mark.parametrize(
    ("shirts", "rejected_when_on"),
    [
        # an orange referee close to shaded reds: "on" takes the referee, "auto" finds the gap too small to be sure
        ((shaded(RED, 0.8), BLUE, RED, shaded(BLUE, 1.2), (240, 120, 40), shaded(RED, 1.2), shaded(BLUE, 0.8)), 4),
        # a pink referee: "on" takes a bright red player for the official, "auto" rejects nobody
        ((shaded(RED, 0.8), BLUE, RED, shaded(BLUE, 1.2), (220, 60, 90), shaded(RED, 1.3), shaded(BLUE, 0.8)), 5),
    ],
)
def test_auto_removes_officials_only_when_the_colours_separate_clearly(
    shirts: tuple[tuple[int, int, int], ...], rejected_when_on: int
) -> None:
    frame = painted_pitch()
    boxes = [(10 + 38 * i, 110 + 4 * (i % 3), 38 + 38 * i, 190 + 4 * (i % 3)) for i in range(7)]
    for box, shirt in zip(boxes, shirts, strict=True):
        paint_person(frame, box, shirt)
    detections = [person(box) for box in boxes]
    on = filter_players(frame, detections, FilterSettings(teams="on"))
    assert [i for i, d in enumerate(on.decisions) if not d.kept] == [rejected_when_on]
    auto = filter_players(frame, detections)
    assert auto.kept == detections
    assert auto.officials is not None and not auto.officials.removed
    assert auto.officials.reason == "jersey colours did not separate clearly"
    assert auto.officials.separation is not None and 1.0 < auto.officials.separation < 2.0
    assert on.officials is not None and on.officials.separation == pytest.approx(auto.officials.separation)
    # a lower bar lets it through
    assert not filter_players(frame, detections, FilterSettings(min_separation=1.0)).decisions[rejected_when_on].kept


def test_earlier_frames_colours_let_a_frame_with_few_people_judge_the_referee() -> None:
    crowded, sparse = painted_pitch(), painted_pitch()
    boxes = [(10 + 38 * i, 110 + 4 * (i % 3), 38 + 38 * i, 190 + 4 * (i % 3)) for i in range(7)]
    for box, shirt in zip(boxes, [RED, BLUE, RED, BLUE, YELLOW, RED, BLUE], strict=True):
        paint_person(crowded, box, shirt)
    for box, shirt in zip(boxes[2:5], [RED, BLUE, YELLOW], strict=True):
        paint_person(sparse, box, shirt)
    earlier = filter_players(crowded, [person(box) for box in boxes])
    assert earlier.jersey_colours.shape == (7, 3)
    detections = [person(box) for box in boxes[2:5]]
    alone = filter_players(sparse, detections)
    assert alone.kept == detections  # three shirts: too few to tell the teams from the officials
    assert alone.officials is not None and alone.officials.reason == "too few people with a visible shirt"
    pooled = filter_players(sparse, detections, earlier_colours=[earlier.jersey_colours])
    assert [d.reason for d in pooled.decisions] == [None, None, "official's colour"]
    assert pooled.officials is not None and pooled.officials.removed and pooled.officials.colours == 10
    assert [(c.label, c.members, c.pooled) for c in pooled.clusters] == [
        ("team 1", 1, 4),
        ("team 2", 1, 4),
        ("officials", 1, 2),
    ]


def test_teams_do_not_judge_someone_hidden_behind_a_nearer_person() -> None:
    frame = painted_pitch()
    boxes = [(10 + 38 * i, 110 + 4 * (i % 3), 38 + 38 * i, 190 + 4 * (i % 3)) for i in range(7)]
    shirts = [RED, BLUE, RED, BLUE, YELLOW, RED, BLUE]
    behind_referee = (boxes[4][0] - 4, boxes[4][1] - 10, boxes[4][2] - 4, boxes[4][3] - 10)  # feet higher: farther
    paint_person(frame, behind_referee, RED)
    for box, shirt in zip(boxes, shirts, strict=True):
        paint_person(frame, box, shirt)
    detections = [person(box) for box in boxes] + [person(behind_referee)]
    result = filter_players(frame, detections, FilterSettings(teams="on"))
    # the red player's torso is behind the referee's box: what shows there is yellow, which is not evidence
    assert [d.reason for d in result.decisions] == [None] * 4 + ["official's colour"] + [None] * 3
    assert result.decisions[-1].cluster is None


def test_to_pandas_has_one_row_per_detection() -> None:
    frame = painted_pitch()
    paint_person(frame, (100, 120, 130, 200), RED)
    detections = [person((100, 120, 130, 200)), person((200, 5, 220, 55))]
    table = filter_players(frame, detections).to_pandas()
    assert list(table["reason"].fillna("")) == ["", "outside pitch"]
    assert list(table["kept"]) == [True, False]
    assert list(table["x0"]) == [100.0, 200.0]


# ---------------------------------------------------------------------------------------------------------------
# settings, files and inputs


def test_scaled_moves_polygon_and_clicks_and_keeps_shares() -> None:
    settings = FilterSettings(
        pitch="polygon", polygon=((0, 0), (100, 0), (100, 50)), exclusions=((10, 20),), min_height=0.1, max_count=5
    )
    half = settings.scaled(0.5, 2.0)
    assert half.polygon == ((0.0, 0.0), (50.0, 0.0), (50.0, 100.0))
    assert half.exclusions == ((5.0, 40.0),)
    assert (half.min_height, half.max_count, half.pitch) == (0.1, 5, "polygon")
    assert FilterSettings().scaled(2, 2) == FilterSettings()
    with pytest.raises(FilterError):
        settings.scaled(0, 1)


def test_load_polygon_good_file(tmp_path: Path) -> None:
    path = tmp_path / "pitch.json"
    path.write_text(json.dumps({"pitch": [[0, 10], [640, 10.5], [640, 360], [0, 360]]}), encoding="utf-8")
    assert load_polygon(path) == ((0.0, 10.0), (640.0, 10.5), (640.0, 360.0), (0.0, 360.0))


@pytest.mark.parametrize(
    "content",
    [
        "not json {",
        json.dumps([[0, 0], [1, 0], [1, 1]]),
        json.dumps({"field": [[0, 0], [1, 0], [1, 1]]}),
        json.dumps({"pitch": [[0, 0], [1, 0]]}),
        json.dumps({"pitch": [[0, 0], [1, "a"], [1, 1]]}),
        json.dumps({"pitch": [[0, 0, 0], [1, 0], [1, 1]]}),
        '{"pitch": [[0, 0], [1, NaN], [1, 1]]}',
    ],
)
def test_load_polygon_bad_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "pitch.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FilterError, match="pitch.json"):
        load_polygon(path)


def test_load_polygon_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FilterError, match="does not exist"):
        load_polygon(tmp_path / "nowhere.json")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pitch": "grass"},
        {"pitch": "polygon"},
        {"pitch": "polygon", "polygon": ((0, 0), (1, 1))},
        {"polygon": ((0, 0), (1, 1), (2, float("nan")))},
        {"min_height": 0},
        {"max_height": 1.5},
        {"min_height": 0.5, "max_height": 0.4},
        {"min_aspect": -1},
        {"min_aspect": 3, "max_aspect": 2},
        {"max_count": 0},
        {"max_count": 2.5},
        {"exclusions": ((1, 2, 3),)},
        {"edge_margin": 1.0},
        {"teams": "yes"},
        {"teams": True},
        {"min_separation": 0},
    ],
)
def test_invalid_settings_raise_filter_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(FilterError):
        FilterSettings(**kwargs)


def test_bad_inputs_raise_filter_error() -> None:
    frame = painted_pitch()
    with pytest.raises(FilterError, match="uint8"):
        filter_players(frame.astype(np.float32), [])
    with pytest.raises(FilterError, match="Detection 1"):
        filter_players(frame, [person((1, 1, 20, 60)), person((1, float("nan"), 20, 60))])
    assert filter_players(frame, []).decisions == []
