"""Prompts: the JSON file format (DESIGN.md section 2), its error messages, validation against a clip, merging."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playerseg.io.prompts import Box, Point, Prompt, PromptError, PromptSet


def sample_set() -> PromptSet:
    return PromptSet(
        [
            Prompt(frame=0, object_id=1, points=(Point(10, 20, True), Point(30.5, 40, False))),
            Prompt(frame=5, object_id=2, box=Box(1, 2, 50, 60)),
            Prompt(frame=5, object_id=3, points=(Point(7, 8),), box=Box(0, 0, 9.5, 9)),
        ]
    )


def test_json_has_the_documented_shape() -> None:
    data = json.loads(sample_set().to_json())
    assert data["version"] == 1
    assert data["prompts"][0] == {"frame": 0, "object_id": 1, "points": [[10, 20, 1], [30.5, 40, 0]], "box": None}
    assert data["prompts"][1] == {"frame": 5, "object_id": 2, "points": [], "box": [1, 2, 50, 60]}
    assert data["prompts"][2]["box"] == [0, 0, 9.5, 9]


def test_json_round_trip_keeps_every_prompt() -> None:
    prompts = sample_set()
    assert PromptSet.from_json(prompts.to_json()) == prompts
    assert PromptSet.from_dict(prompts.to_dict()) == prompts


def test_save_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "prompts.json"
    sample_set().save(path)
    assert PromptSet.load(path) == sample_set()


def test_reads_a_hand_written_file() -> None:
    text = '{"version": 1, "prompts": [{"frame": 3, "object_id": 7, "points": [[4, 5, 1], [1.5, 2, 0]], "box": null}]}'
    (prompt,) = PromptSet.from_json(text).prompts
    assert prompt == Prompt(frame=3, object_id=7, points=(Point(4, 5), Point(1.5, 2.0, positive=False)))


def test_from_click() -> None:
    assert Prompt.from_click(4, 2, 10, 11) == Prompt(4, 2, (Point(10.0, 11.0, True),))
    assert Prompt.from_click(4, 2, 10, 11, positive=False).points[0].positive is False


def test_object_ids_frames_and_for_frame() -> None:
    prompts = sample_set()
    assert prompts.object_ids == [1, 2, 3]
    assert prompts.frames == [0, 5]
    assert [p.object_id for p in prompts.for_frame(5)] == [2, 3]
    assert prompts.for_frame(1) == []


def test_merged_joins_prompts_of_one_object_on_one_frame() -> None:
    prompts = PromptSet(
        [
            Prompt.from_click(5, 2, 1, 1),
            Prompt(frame=0, object_id=9, box=Box(0, 0, 4, 4)),
            Prompt(frame=5, object_id=2, points=(Point(2, 2, False),), box=Box(0, 0, 10, 10)),
            Prompt(frame=0, object_id=1, box=Box(0, 0, 3, 3)),
            Prompt(frame=5, object_id=2, points=(Point(3, 3),), box=Box(1, 1, 20, 20)),
            Prompt.from_click(5, 2, 4, 4),  # no box: the earlier box stays
        ]
    )
    merged = prompts.merged().prompts
    assert [(p.frame, p.object_id) for p in merged] == [(0, 1), (0, 9), (5, 2)]
    assert merged[2].points == (Point(1, 1), Point(2, 2, False), Point(3, 3), Point(4, 4))
    assert merged[2].box == Box(1, 1, 20, 20)
    assert len(prompts.prompts) == 6  # the original is left alone


def good_entry(**changes: object) -> dict:
    entry = {"frame": 0, "object_id": 1, "points": [[1, 2, 1]], "box": None}
    entry.update(changes)
    return entry


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"prompts": []}, "version"),
        ({"version": 2, "prompts": []}, "version 2"),
        ({"version": 1}, '"prompts"'),
        ({"version": 1, "prompts": {}}, "list"),
        ({"version": 1, "prompts": [{"object_id": 1, "points": [[1, 2, 1]]}]}, r'prompts\[0\] has no "frame"'),
        ({"version": 1, "prompts": [{"frame": 0, "points": [[1, 2, 1]]}]}, '"object_id"'),
        ({"version": 1, "prompts": [good_entry(points=[[1, 2]])]}, r"points\[0\].*3 elements.*got 2"),
        ({"version": 1, "prompts": [good_entry(points=[[1, 2, 2]])]}, r"label must be 1.*or 0"),
        ({"version": 1, "prompts": [good_entry(points=[["a", 2, 1]])]}, "finite numbers"),
        ({"version": 1, "prompts": [good_entry(frame=-1)]}, r'"frame".*>= 0'),
        ({"version": 1, "prompts": [good_entry(frame=1.5)]}, '"frame"'),
        ({"version": 1, "prompts": [good_entry(object_id=0)]}, r'"object_id".*1 to 254'),
        ({"version": 1, "prompts": [good_entry(object_id=255)]}, r"255 is void"),
        ({"version": 1, "prompts": [good_entry(points=[], box=None)]}, "neither points nor a box"),
        ({"version": 1, "prompts": [good_entry(box=[5, 0, 5, 10])]}, r"x1 > x0"),
        ({"version": 1, "prompts": [good_entry(box=[0, 9, 5, 3])]}, r"y1 > y0"),
        ({"version": 1, "prompts": [good_entry(box=[0, 1, 2])]}, r"\[x0, y0, x1, y1\]"),
        ({"version": 1, "prompts": [good_entry(boxes=[0, 0, 1, 1])]}, "unknown key"),
        ({"version": 1, "prompts": []}, '"prompts" is empty'),
    ],
)
def test_bad_json_names_what_is_wrong(data: dict, message: str) -> None:
    with pytest.raises(PromptError, match=message):
        PromptSet.from_dict(data)


def test_error_names_the_entry_index() -> None:
    data = {"version": 1, "prompts": [good_entry(), good_entry(object_id=300)]}
    with pytest.raises(PromptError, match=r"prompts\[1\]"):
        PromptSet.from_dict(data)


def test_not_json_and_bad_file_are_prompt_errors(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="not valid JSON"):
        PromptSet.from_json("{version: 1")
    path = tmp_path / "broken.json"
    path.write_text('{"version": 3, "prompts": []}')
    with pytest.raises(PromptError, match="broken.json"):
        PromptSet.load(path)


NEGATIVE_ONLY = r"^Object 3 has only negative points: give it a positive point or a box \(SAM2 has nothing to track"


def negative_only_data() -> dict:
    """Object 1 is fine; object 3 has negative points only, on two frames."""
    return {
        "version": 1,
        "prompts": [
            good_entry(),
            good_entry(object_id=3, points=[[5, 5, 0]]),
            good_entry(frame=2, object_id=3, points=[[6, 6, 0], [7, 7, 0]]),
        ],
    }


def test_an_object_with_negative_points_only_is_refused_everywhere(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match=NEGATIVE_ONLY):
        PromptSet.from_dict(negative_only_data())
    with pytest.raises(PromptError, match=NEGATIVE_ONLY):
        PromptSet.from_json(json.dumps(negative_only_data()))
    path = tmp_path / "negatives.json"
    path.write_text(json.dumps(negative_only_data()))
    with pytest.raises(PromptError, match="negatives.json: Object 3 has only negative points"):
        PromptSet.load(path)
    built = PromptSet([Prompt.from_click(0, 1, 1, 1), Prompt.from_click(0, 3, 5, 5, positive=False)])
    with pytest.raises(PromptError, match=NEGATIVE_ONLY):
        built.validate(width=640, height=360, num_frames=10)


def test_negative_points_are_fine_once_the_object_has_a_positive_point_or_a_box() -> None:
    data = negative_only_data()
    data["prompts"].append(good_entry(frame=4, object_id=3, points=[], box=[1, 1, 9, 9]))  # a later box counts
    prompts = PromptSet.from_dict(data)
    prompts.validate(width=640, height=360, num_frames=10)
    assert prompts.object_ids == [1, 3]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": 1, "prompts": [good_entry()], "fps": 25}, r"unknown key\(s\) fps; allowed: version, prompts"),
        ({"version": 1, "prompts": [good_entry()], "b": 1, "a": 2}, r"unknown key\(s\) a, b"),
        ({"version": 1, "prompts": [good_entry(label=1, note="x")]}, r"prompts\[0\] has unknown key\(s\) label, note"),
    ],
)
def test_unknown_keys_are_refused_by_name(data: dict, message: str) -> None:
    with pytest.raises(PromptError, match=message):
        PromptSet.from_dict(data)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", "does not exist"),
        ("folder", "is a folder"),
        ("binary", "not UTF-8 text"),
        ("png", "not UTF-8 text"),
        ("not_json", "not valid JSON"),
        ("empty_file", "not valid JSON"),
        ("empty_list", '"prompts" is empty'),
        ("nested", "nest too deeply"),
    ],
)
def test_every_bad_prompts_file_is_one_prompt_error_naming_the_file_only(
    kind: str, message: str, tmp_path: Path
) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    path = folder / "prompts.json"
    if kind == "folder":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    elif kind == "png":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(128, 256)))
    elif kind == "not_json":
        path.write_text("frame 0: click at 10, 20")
    elif kind == "empty_file":
        path.write_text("")
    elif kind == "empty_list":
        path.write_text('{"version": 1, "prompts": []}')
    elif kind == "nested":
        path.write_text("[" * 100_000)
    with pytest.raises(PromptError, match=message) as caught:
        PromptSet.load(path)
    text = str(caught.value)
    assert text.startswith("Prompts file prompts.json") and str(folder) not in text and "\n" not in text


def test_constructing_a_bad_prompt_fails_early() -> None:
    with pytest.raises(PromptError, match="neither points nor a box"):
        Prompt(frame=0, object_id=1)
    with pytest.raises(PromptError, match="object_id"):
        Prompt.from_click(0, 0, 1, 1)
    with pytest.raises(PromptError, match="frame"):
        Prompt.from_click(-2, 1, 1, 1)
    with pytest.raises(PromptError, match="x1 > x0"):
        Box(10, 0, 2, 5)


def test_validate_accepts_prompts_inside_the_clip() -> None:
    prompts = PromptSet(
        [Prompt.from_click(9, 1, 0, 0), Prompt.from_click(0, 2, 640, 360), Prompt.from_box(3, 3, 0, 0, 640, 360)]
    )
    prompts.validate(width=640, height=360, num_frames=10)


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        (Prompt.from_click(10, 4, 5, 5), r"object 4 on frame 10.*last frame 9"),
        (Prompt.from_click(2, 3, 640.5, 5), r"object 3 on frame 2.*\(640.5, 5\).*640x360"),
        (Prompt.from_click(2, 3, 5, -1), r"object 3 on frame 2.*outside"),
        (Prompt.from_click(1, 1, 5, 361), r"outside the 640x360 frame"),
        (Prompt.from_box(7, 5, 10, 10, 700, 20), r"object 5 on frame 7.*box \[10, 10, 700, 20\]"),
        (Prompt.from_box(7, 5, -3, 10, 70, 20), r"box .*outside"),
    ],
)
def test_validate_names_the_bad_prompt(prompt: Prompt, message: str) -> None:
    prompts = PromptSet([Prompt.from_click(0, 1, 1, 1), prompt])
    with pytest.raises(PromptError, match=message):
        prompts.validate(width=640, height=360, num_frames=10)
