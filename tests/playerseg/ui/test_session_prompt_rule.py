"""One prompt rule in the app as in the API, the CLI and the JSON upload: an object needs a positive point or a box,
negative points alone are refused (SAM2 has nothing to track otherwise)."""

from __future__ import annotations

import json

import pytest

from playerseg.io.prompts import Prompt, PromptError, PromptSet
from playerseg.io.video import VideoInfo
from playerseg.ui.session import NEGATIVE, NEW_OBJECT, POSITIVE, ClipState, Session, SessionError

SENTENCE = "Object 1 has only negative points: give it a positive point or a box (SAM2 has nothing to track otherwise)."


@pytest.fixture
def session() -> Session:
    info = VideoInfo("clip.mp4", 640, 360, 25.0, 50, 2.0, "h264")
    s = Session()
    s.load_clip(ClipState(path="clip.mp4", name="clip.mp4", info=info))
    return s


def test_deleting_the_only_positive_row_leaves_a_run_that_is_refused_with_the_same_sentence(session: Session) -> None:
    session.click(0, 100, 50, POSITIVE, NEW_OBJECT)
    session.click(0, 120, 60, NEGATIVE, "1")
    session.click(0, 300, 60, POSITIVE, NEW_OBJECT)  # object 2 is fine throughout
    session.check_ready()
    message = session.delete_row(0)
    assert message.startswith("Deleted row 1") and SENTENCE in message  # said at once, not only at run time
    with pytest.raises(SessionError) as caught:
        session.check_ready()
    assert str(caught.value) == SENTENCE
    # the same sentence as the JSON upload, the API and the CLI give for these prompts
    with pytest.raises(PromptError) as parsed:
        PromptSet.from_json(json.dumps(session.prompt_set().to_dict()))
    assert str(parsed.value) == SENTENCE
    with pytest.raises(SessionError, match="only negative points"):
        session.click(0, 130, 70, NEGATIVE, "1")  # more negatives do not make it trackable
    session.click(5, 110, 55, POSITIVE, "1")  # a positive point on any frame does
    assert session.check_ready().object_ids == [1, 2]


def test_uploaded_negative_only_prompts_are_refused_by_the_session(session: Session) -> None:
    negatives = PromptSet([Prompt.from_click(0, 1, 10, 10, positive=False)])  # built in code: no JSON check ran
    with pytest.raises(SessionError, match="only negative points"):
        session.replace_prompts(negatives)
    assert session.prompts == []
