"""Grounding DINO detector: prompt normalising, input checks, the offline test-size model end to end (real
transformers code, random weights), saved folders, and the one-sentence errors for names that cannot load here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from playerseg.autolabel.detector import (
    DETECTORS,
    Detection,
    DetectorUnavailableError,
    GroundingDinoDetector,
    build_test_detector,
    get_detector_spec,
    list_detectors,
    load_detector,
    normalise_text_prompt,
)
from playerseg.synthetic.dataset import generate_dataset
from playerseg.tracking.registry import ModelUnavailableError

TEST_NAME = "test-gdino-tiny"


@pytest.fixture(scope="module")
def detector() -> GroundingDinoDetector:
    return load_detector(TEST_NAME, device="cpu")


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    """The four 640x360 RGB frames of one synthetic pitch sequence."""
    root = tmp_path_factory.mktemp("synthetic")
    generate_dataset(root, sequences=1, frames=4, width=640, height=360)
    paths = sorted((root / "JPEGImages" / "seq000").glob("*.jpg"))
    assert len(paths) == 4
    return [np.asarray(Image.open(path).convert("RGB")) for path in paths]


def as_tuples(detections: list[Detection]) -> list[tuple]:
    return [(d.box, d.score, d.label) for d in detections]


# ---------------------------------------------------------------------------------------------------------------
# prompt text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Person", "person."),
        ("person.", "person."),
        ("  Person . ", "person."),
        ("player, referee", "player. referee."),
        ("Player. Referee", "player. referee."),
        ("football   player,, ball.", "football player. ball."),
    ],
)
def test_normalise_text_prompt(text: str, expected: str) -> None:
    assert normalise_text_prompt(text) == expected


@pytest.mark.parametrize("text", ["", "   ", " . , ."])
def test_prompt_without_words_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="holds no words"):
        normalise_text_prompt(text)


# ---------------------------------------------------------------------------------------------------------------
# names and specs


def test_builtin_names() -> None:
    assert list_detectors() == ["grounding-dino-tiny", "grounding-dino-base", TEST_NAME]
    assert get_detector_spec("grounding-dino-tiny").hf_repo == "IDEA-Research/grounding-dino-tiny"
    assert get_detector_spec("grounding-dino-base").hf_repo == "IDEA-Research/grounding-dino-base"
    assert not DETECTORS["grounding-dino-tiny"].random_weights
    assert DETECTORS[TEST_NAME].random_weights


def test_unknown_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(DetectorUnavailableError) as caught:
        get_detector_spec(str(tmp_path / "no-such-detector"))
    message = str(caught.value)
    assert "no-such-detector" in message and "\n" not in message
    for name in list_detectors():
        assert name in message
    assert isinstance(caught.value, ModelUnavailableError)  # the CLI and UI show it as a user error


def test_folder_without_a_saved_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DetectorUnavailableError, match="holds no config.json"):
        get_detector_spec(str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(DetectorUnavailableError, match="not 'grounding-dino'"):
        get_detector_spec(str(tmp_path))


def test_offline_hub_name_fails_with_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache("IDEA-Research/grounding-dino-tiny", "config.json"), str):
        pytest.skip("IDEA-Research/grounding-dino-tiny is in this machine's Hugging Face cache")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DetectorUnavailableError) as caught:
        load_detector("grounding-dino-tiny", device="cpu")
    message = str(caught.value)
    assert "IDEA-Research/grounding-dino-tiny" in message
    assert "not in the local cache" in message and "huggingface-cli download" in message
    assert "save_pretrained" in message
    assert "\n" not in message and message.count(". ") == 0 and message.endswith(".")


def test_unsupported_device_is_refused() -> None:
    with pytest.raises(ModelUnavailableError, match="Unsupported device 'tpu'"):
        load_detector(TEST_NAME, device="tpu")


# ---------------------------------------------------------------------------------------------------------------
# input checks


@pytest.mark.parametrize("threshold", [-0.1, 1.5, float("nan"), True])
def test_thresholds_outside_zero_one_are_refused(detector: GroundingDinoDetector, threshold: float) -> None:
    frame = np.zeros((36, 64, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="box_threshold must be a number from 0 to 1"):
        detector.detect(frame, box_threshold=threshold)
    with pytest.raises(ValueError, match="text_threshold must be a number from 0 to 1"):
        detector.detect(frame, text_threshold=threshold)


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((36, 64), dtype=np.uint8),  # grey
        np.zeros((36, 64, 4), dtype=np.uint8),  # RGBA
        np.zeros((36, 64, 3), dtype=np.float32),  # floats
        np.zeros((0, 64, 3), dtype=np.uint8),  # empty
        np.zeros((2, 640, 3), dtype=np.uint8),  # thinner than any video frame
        [[[0, 0, 0]]],  # not an array
    ],
)
def test_frames_that_are_not_hxwx3_uint8_are_refused(detector: GroundingDinoDetector, frame: object) -> None:
    with pytest.raises(ValueError, match="The frame must be"):
        detector.detect(frame)  # type: ignore[arg-type]


def test_prompt_longer_than_the_model_reads_is_refused(detector: GroundingDinoDetector) -> None:
    with pytest.raises(ValueError, match="tokens long"):
        detector.detect(np.zeros((36, 64, 3), dtype=np.uint8), "person. " * 40)


# ---------------------------------------------------------------------------------------------------------------
# the test-size model end to end


def test_detections_lie_in_the_frame_sorted_by_score(detector: GroundingDinoDetector, frames: list) -> None:
    frame = frames[0]
    detections = detector.detect(frame, box_threshold=0.0)
    assert detections and all(isinstance(d, Detection) for d in detections)
    height, width = frame.shape[:2]
    for d in detections:
        x0, y0, x1, y1 = d.box
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert 0.0 <= d.score <= 1.0
        assert d.label == "person"  # the default prompt's only phrase
    scores = [d.score for d in detections]
    assert scores == sorted(scores, reverse=True)


def test_box_threshold_keeps_exactly_the_scores_above_it(detector: GroundingDinoDetector, frames: list) -> None:
    everything = detector.detect(frames[1], box_threshold=0.0)
    median = float(np.median([d.score for d in everything]))
    above = detector.detect(frames[1], box_threshold=median)
    assert as_tuples(above) == [t for t in as_tuples(everything) if t[1] > median]
    assert detector.detect(frames[1], box_threshold=1.0) == []


def test_labels_are_phrases_of_the_prompt(detector: GroundingDinoDetector, frames: list) -> None:
    for text_threshold in (0.0, 0.25, 1.0):  # tokens of several phrases, some, none: still one phrase each
        detections = detector.detect(frames[2], "Player, Referee", box_threshold=0.0, text_threshold=text_threshold)
        assert detections
        assert {d.label for d in detections} <= {"player", "referee"}


def test_same_name_gives_same_detections_and_leaves_the_callers_rng(frames: list) -> None:
    torch.manual_seed(7)
    expected_draw = torch.rand(3)
    torch.manual_seed(7)
    first = load_detector(TEST_NAME, device="cpu")
    assert torch.equal(torch.rand(3), expected_draw)
    second = load_detector(TEST_NAME, device="cpu")
    for frame in frames:
        assert as_tuples(first.detect(frame, box_threshold=0.0)) == as_tuples(second.detect(frame, box_threshold=0.0))


def test_flipped_view_of_a_frame_is_accepted(detector: GroundingDinoDetector, frames: list) -> None:
    mirrored = frames[3][:, ::-1]
    assert as_tuples(detector.detect(mirrored)) == as_tuples(detector.detect(mirrored.copy()))


def test_describe_says_random_weights(detector: GroundingDinoDetector) -> None:
    facts = detector.describe()
    assert facts["detector"] == TEST_NAME and facts["source"] == "random"
    assert facts["random_weights"] is True and "random weights" in facts["weights"]
    assert facts["device"] == "cpu"
    assert facts["image_size"] == {"shortest_edge": 128, "longest_edge": 224}
    json.dumps(facts)  # goes into run.json as is


def test_saved_folder_loads_with_the_same_detections(
    detector: GroundingDinoDetector, frames: list, tmp_path: Path
) -> None:
    model, processor = build_test_detector()
    folder = tmp_path / "my-detector"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    loaded = load_detector(str(folder), device="cpu")
    expected = detector.detect(frames[0], "player. referee.", box_threshold=0.0)
    assert as_tuples(loaded.detect(frames[0], "player. referee.", box_threshold=0.0)) == as_tuples(expected)
    facts = loaded.describe()
    assert facts["path"] == str(folder.resolve()) and facts["random_weights"] is True  # a copy is still random
