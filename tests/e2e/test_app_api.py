"""The public /compare endpoint, called with gradio_client as an analytics team would script it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import av
import pytest
from gradio_client import Client, handle_file

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
AUTOLABELER = "autolabel:test-gdino-tiny+test-sam2.1-tiny-128"


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def _h264(path: str) -> tuple[int, int, int]:
    with av.open(path) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = sum(1 for _ in container.decode(stream))
        return frames, stream.codec_context.width, stream.codec_context.height


def test_compare_returns_two_playable_videos_and_a_summary(client: Client, small_clip: Path) -> None:
    prompts = (small_clip / "prompts" / "seq000.json").read_text()
    video_a, video_b, summary = client.predict(
        video=handle_file(str(small_clip / "videos" / "seq000.mp4")),
        prompts=prompts,
        model_a="test-sam2.1-tiny-128",
        model_b="test-sam2.1-tiny-256",
        api_name="/compare",
    )
    assert _h264(video_a) == (10, 320, 180) and _h264(video_b) == (10, 320, 180)
    assert set(summary["models"]) == {"A", "B"}
    for label, name in (("A", "test-sam2.1-tiny-128"), ("B", "test-sam2.1-tiny-256")):
        model = summary["models"][label]
        assert model["name"] == name and model["ok"] and model["random_weights"]
        assert 0 < model["latency"]["p50_ms"] <= model["latency"]["p95_ms"]
        assert model["memory"]["kind"] == "process_rss" and model["memory"]["peak_mb"] > 0
        assert 0.0 <= model["flicker"]["consecutive_iou"] <= 1.0
        assert model["accuracy"] is None  # no ground truth sent
    json.dumps(summary)


def test_the_autolabeler_is_a_model_of_the_comparison(client: Client, small_clip: Path) -> None:
    video_a, video_b, summary = client.predict(
        video=handle_file(str(small_clip / "videos" / "seq000.mp4")),
        prompts=(small_clip / "prompts" / "seq000.json").read_text(),
        model_a=AUTOLABELER,
        model_b="test-sam2.1-tiny-128",
        api_name="/compare",
    )
    model = summary["models"]["A"]
    assert model["ok"], model["error"]
    assert model["name"] == AUTOLABELER and model["random_weights"]
    assert _h264(video_a) == (10, 320, 180) and _h264(video_b) == (10, 320, 180)
    assert model["autolabel"]["detection_frames"] == [0, 5]  # the run's auto-labeler facts, as run.json has them
    assert "files" not in summary  # no server paths: the videos come back as files
    assert any("random weights" in notice.lower() for notice in summary["notices"])


def test_compare_scores_against_ground_truth(client: Client, small_clip: Path, tmp_path: Path) -> None:
    truth = tmp_path / "truth.zip"
    with zipfile.ZipFile(truth, "w") as archive:
        for png in sorted((small_clip / "Annotations" / "seq000").glob("*.png")):
            archive.write(png, arcname=f"Annotations/seq000/{png.name}")
    _, _, summary = client.predict(
        video=handle_file(str(small_clip / "videos" / "seq000.mp4")),
        prompts=(small_clip / "prompts" / "seq000.json").read_text(),
        model_a="test-sam2.1-tiny-128",
        model_b="test-sam2.1-tiny-128",
        ground_truth=handle_file(str(truth)),
        api_name="/compare",
    )
    for label in ("A", "B"):
        accuracy = summary["models"][label]["accuracy"]
        assert 0.0 <= accuracy["J_mean"] <= 1.0 and accuracy["frames_scored"] == 10


def test_one_model_offline_still_returns_the_other(client: Client, small_clip: Path) -> None:
    video_a, video_b, summary = client.predict(
        video=handle_file(str(small_clip / "videos" / "seq000.mp4")),
        prompts=(small_clip / "prompts" / "seq000.json").read_text(),
        model_a="test-sam2.1-tiny-128",
        model_b="sam2.1-large",
        api_name="/compare",
    )
    assert _h264(video_a)[0] == 10 and video_b is None
    failed = summary["models"]["B"]
    assert not failed["ok"] and "sam2.1-large" in failed["error"] and failed["latency"] is None
    assert summary["models"]["A"]["ok"]


@pytest.mark.parametrize(
    ("prompts", "model_b", "message"),
    [
        ("not json", "test-sam2.1-tiny-128", "not valid JSON"),
        ('{"version": 1, "prompts": []}', "test-sam2.1-tiny-128", "empty"),
        (
            '{"version": 1, "prompts": [{"frame": 0, "object_id": 1, "points": [[10, 10, 1]]}]}',
            "my-model",
            "not offered here",
        ),
        (
            '{"version": 1, "prompts": [{"frame": 99, "object_id": 1, "points": [[10, 10, 1]]}]}',
            "test-sam2.1-tiny-128",
            "frame 99",
        ),
    ],
)
def test_bad_input_gets_one_sentence(
    client: Client, small_clip: Path, prompts: str, model_b: str, message: str
) -> None:
    video = handle_file(str(small_clip / "videos" / "seq000.mp4"))
    with pytest.raises(Exception, match=message) as caught:
        client.predict(
            video=video, prompts=prompts, model_a="test-sam2.1-tiny-128", model_b=model_b, api_name="/compare"
        )
    sentence = str(caught.value).strip()
    assert "Traceback" not in sentence and "\n" not in sentence and "/tmp" not in sentence, sentence
    _, _, summary = client.predict(  # the server is still fine
        video=video,
        prompts=(small_clip / "prompts" / "seq000.json").read_text(),
        model_a="test-sam2.1-tiny-128",
        model_b="test-sam2.1-tiny-128",
        api_name="/compare",
    )
    assert summary["models"]["A"]["ok"]


def test_unreadable_ground_truth_is_refused_in_one_sentence(client: Client, small_clip: Path, tmp_path: Path) -> None:
    bad = tmp_path / "truth.zip"
    bad.write_text("not a zip")
    with pytest.raises(Exception, match="zip"):
        client.predict(
            video=handle_file(str(small_clip / "videos" / "seq000.mp4")),
            prompts=(small_clip / "prompts" / "seq000.json").read_text(),
            model_a="test-sam2.1-tiny-128",
            model_b="test-sam2.1-tiny-128",
            ground_truth=handle_file(str(bad)),
            api_name="/compare",
        )


def test_the_click_handlers_are_not_public(client: Client) -> None:
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert list(endpoints) == ["/compare"]
    names = [p["parameter_name"] for p in endpoints["/compare"]["parameters"]]
    assert names == ["video", "prompts", "model_a", "model_b", "ground_truth"]
