"""Typed run facts: to_json() gives run.json's keys in run.json's order, from_json() reads them back unchanged,
unknown keys are refused."""

from __future__ import annotations

import json
import math

import pytest

from evaluation.results.profile import LatencySummary
from playerseg.io.prompts import Prompt, PromptSet
from playerseg.io.video_info import VideoInfo
from playerseg.runs.facts import (
    AutoLabelFacts,
    AutoLabelParts,
    LatencyFacts,
    MemoryFacts,
    ModelFacts,
    RunFacts,
    SelectionFacts,
    SkippingFacts,
    Timings,
)

TRACKER = ModelFacts(
    "test-sam2.1-tiny-128",
    "configs/sam2.1/sam2.1_hiera_t.yaml",
    128,
    "random",
    "random",
    "random",
    True,
    "random weights",
    "cpu",
    False,
)
MODEL_KEYS = [
    "model",
    "config",
    "image_size",
    "source",
    "checkpoint",
    "checkpoint_sha256",
    "random_weights",
    "weights",
    "device",
    "compiled",
]


def run_facts(**changes: object) -> RunFacts:
    latency = LatencySummary(7, 0, 10.0, 12.0, 12.5, 13.0, 10.5, 90.0, 1, math.nan, 300.0, "process_rss", "cpu")
    facts = RunFacts(
        model=TRACKER,
        clip=VideoInfo("clip.mp4", 320, 180, 24.0, 16, 16 / 24, "h264"),
        selection=SelectionFacts(8, 0, 14, 2, 320, 180, 12.0),
        objects=[1, 2],
        prompts=PromptSet([Prompt.from_click(0, 1, 10, 20), Prompt.from_click(0, 2, 30, 40)]),
        latency=LatencyFacts(latency, 0.084),
        memory=MemoryFacts("process_rss", 300.12),
        timings=Timings(1.234).with_writing(0.1, 0.2, 0.3),
        warnings=["a warning"],
        created="2026-01-01T00:00:00+00:00",
        host="host",
        command="python -m playerseg segment",
    )
    return RunFacts(**{**facts.__dict__, **changes})


def round_trip(facts: RunFacts) -> dict:
    written = json.loads(json.dumps(facts.to_json()))
    again = RunFacts.from_json(written)
    assert json.dumps(again.to_json(), indent=2) == json.dumps(written, indent=2)  # the same bytes, the same order
    return written


def test_a_segment_run_json_keeps_its_keys_and_order() -> None:
    written = round_trip(run_facts())
    assert list(written) == [
        *MODEL_KEYS,
        "clip",
        "selection",
        "objects",
        "prompts",
        "prompt_space",
        "latency",
        "memory",
        "timings",
        "warnings",
        "created",
        "host",
        "command",
    ]
    assert list(written["timings"]) == ["tracking_s", "masks_s", "overlay_s", "flicker_s"]
    assert written["latency"]["prompt_ms"] is None and list(written["latency"])[-1] == "total_s"
    assert written["prompt_space"] == "processed frames (selection index, processed pixels)"


def test_skipping_and_flicker_come_where_run_json_has_them() -> None:
    skipping = SkippingFacts(3.0, 2, 180, 4, 16, 0.25)
    written = round_trip(run_facts(frame_skipping=skipping, flicker={"frames": 8, "consecutive_iou": 0.5}))
    assert list(written)[-5:] == ["frame_skipping", "created", "host", "command", "flicker"]
    assert written["frame_skipping"]["skipped_share"] == 0.25


def test_an_autolabel_run_json_keeps_the_parts_after_the_tracker_facts() -> None:
    parts = AutoLabelParts(tracker=TRACKER.model, detector={"detector": "imported", "random_weights": False})
    model = ModelFacts(**{**TRACKER.__dict__, "model": "autolabel:imported+test", "autolabel": parts})
    timings = Timings(tracking_s=2.0, detection_s=0.5, total_s=2.5)
    written = round_trip(run_facts(model=model, timings=timings, autolabel=AutoLabelFacts([1, 2], {"tracks": 2})))
    assert list(written)[:13] == [*MODEL_KEYS, "tracker", "pipeline", "detector"]
    assert written["pipeline"] == "autolabel" and written["tracker"] == TRACKER.model
    assert list(written["timings"]) == ["total_s", "detection_s", "tracking_s"]
    assert written["track_ids"] == [1, 2] and written["autolabel"] == {"tracks": 2}


@pytest.mark.parametrize("part", ["run", "model", "timings"])
def test_unknown_keys_are_refused(part: str) -> None:
    written = run_facts().to_json()
    if part == "run":
        written["surprise"] = 1
    elif part == "model":
        written = {"surprise": 1, **written}
    else:
        written["timings"]["surprise_s"] = 1.0
    with pytest.raises(ValueError, match="unknown keys"):
        RunFacts.from_json(written)
