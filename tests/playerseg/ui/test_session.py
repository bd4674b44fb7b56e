"""The prompt-editing rules a stakeholder relies on when clicking players (no browser needed)."""

from __future__ import annotations

import pytest

from playerseg.io.prompts import PromptSet
from playerseg.io.video import VideoInfo
from playerseg.ui.limits import RunLimits as Limits
from playerseg.ui.session import BOX, NEGATIVE, NEW_OBJECT, POSITIVE, ClipState, Session, SessionError


def _clip(frames: int = 50, width: int = 640, height: int = 360) -> ClipState:
    info = VideoInfo("clip.mp4", width, height, 25.0, frames, frames / 25.0, "h264")
    return ClipState(path="clip.mp4", name="clip.mp4", info=info)


@pytest.fixture
def session() -> Session:
    s = Session()
    s.load_clip(_clip())
    return s


def test_new_object_gets_the_next_id_and_later_clicks_are_corrections(session: Session) -> None:
    first, _ = session.click(0, 100, 50, POSITIVE, NEW_OBJECT)
    second, _ = session.click(0, 300, 60, POSITIVE, NEW_OBJECT)
    assert (first, second) == (1, 2)
    _, message = session.click(10, 110, 55, POSITIVE, "1")
    assert "correction" in message
    rows = session.table_rows()
    assert [row[4] for row in rows] == ["start", "start", "correction"]
    assert session.object_choices() == ["1", "2", NEW_OBJECT]
    merged = session.prompt_set().merged()
    assert [(p.frame, p.object_id) for p in merged.prompts] == [(0, 1), (0, 2), (10, 1)]


def test_box_takes_two_clicks_in_any_order(session: Session) -> None:
    _, message = session.click(3, 200, 150, BOX, NEW_OBJECT)
    assert "first corner" in message and not session.prompts
    assert session.box_corner is not None
    session.click(3, 120, 40, BOX, "1")  # the corner belongs to object 1 (the new object's id)
    assert session.box_corner is None
    box = session.prompts[0].box
    assert box is not None and (box.x0, box.y0, box.x1, box.y1) == (120, 40, 200, 150)


def test_box_corner_restarts_on_another_frame(session: Session) -> None:
    session.click(3, 200, 150, BOX, NEW_OBJECT)
    session.click(4, 100, 100, BOX, "1")
    assert not session.prompts and session.box_corner is not None and session.box_corner.frame == 4


def test_negative_point_needs_an_existing_object(session: Session) -> None:
    with pytest.raises(SessionError, match="positive point or a box"):
        session.click(0, 10, 10, NEGATIVE, NEW_OBJECT)
    session.click(0, 10, 10, POSITIVE, NEW_OBJECT)
    session.click(0, 20, 20, NEGATIVE, "1")
    assert [p.points[0].positive for p in session.prompts] == [True, False]


def test_clicks_outside_the_range_are_refused_and_edges_are_clamped(session: Session) -> None:
    session.set_range(5, 20, 1)
    with pytest.raises(SessionError, match="outside the selected range"):
        session.click(2, 10, 10, POSITIVE, NEW_OBJECT)
    session.click(5, 900, -3, POSITIVE, NEW_OBJECT)  # the image edge reports one pixel past it
    point = session.prompts[0].points[0]
    assert (point.x, point.y) == (639, 0)


def test_delete_row_and_clear(session: Session) -> None:
    session.click(0, 10, 10, POSITIVE, NEW_OBJECT)
    session.click(0, 50, 50, POSITIVE, NEW_OBJECT)
    with pytest.raises(SessionError, match="Click a row"):
        session.delete_row(None)
    session.delete_row(0)
    assert [p.object_id for p in session.prompts] == [2]
    session.clear_prompts()
    assert session.prompts == [] and session.object_choices() == [NEW_OBJECT]


def test_selection_applies_the_limits_with_notices() -> None:
    s = Session()
    s.load_clip(_clip(frames=1000, width=3840, height=2160))
    s.set_range(100, 999, 2)
    selection, notices = s.selection(Limits(max_frames=300, max_side=1280))
    assert (selection.start, selection.max_frames, selection.stride, selection.max_side) == (100, 300, 2, 1280)
    assert len(notices) == 2 and "frames 100..698" in notices[0] and "3840x2160" in notices[1]
    assert s.processed_frames(Limits(300, 1280))[-1] == 698
    small = Session()
    small.load_clip(_clip(frames=40))
    selection, notices = small.selection(Limits(300, 1280))
    assert notices == [] and selection.max_frames == 40 and selection.max_side is None


def test_bad_ranges_are_refused(session: Session) -> None:
    with pytest.raises(SessionError, match="before start"):
        session.set_range(20, 10, 1)
    with pytest.raises(SessionError, match="0..49"):
        session.set_range(0, 50, 1)
    with pytest.raises(SessionError, match="Stride"):
        session.set_range(0, 10, 0)


def test_uploaded_prompts_must_fit_the_clip(session: Session) -> None:
    good = PromptSet.from_json('{"version": 1, "prompts": [{"frame": 4, "object_id": 3, "points": [[10, 10, 1]]}]}')
    session.replace_prompts(good)
    assert session.object_ids == [3] and session.next_object_id() == 4
    far = PromptSet.from_json('{"version": 1, "prompts": [{"frame": 80, "object_id": 1, "points": [[10, 10, 1]]}]}')
    with pytest.raises(SessionError, match="frame"):
        session.replace_prompts(far)
    assert session.object_ids == [3]  # a refused file changes nothing


def test_run_needs_prompts_inside_the_range(session: Session) -> None:
    with pytest.raises(SessionError, match="at least one player"):
        session.check_ready()
    session.click(30, 10, 10, POSITIVE, NEW_OBJECT)
    session.set_range(0, 20, 1)
    with pytest.raises(SessionError, match="frame 30, outside the range 0..20"):
        session.check_ready()


def test_a_new_clip_resets_the_session(session: Session) -> None:
    session.click(0, 10, 10, POSITIVE, NEW_OBJECT)
    session.ground_truth = "gt.zip"
    session.load_clip(_clip(frames=10))
    assert session.prompts == [] and session.ground_truth is None and session.end == 9


def test_sessions_do_not_share_prompts() -> None:
    a, b = Session(), Session()
    a.load_clip(_clip())
    b.load_clip(_clip())
    a.click(0, 10, 10, POSITIVE, NEW_OBJECT)
    assert b.prompts == [] and a.session_id != b.session_id
