"""The mask preview (playerseg.annotate.preview): what sam2's own SAM2ImagePredictor gives for the same prompts on a
test-size model, one image encoding per frame key, what the decoder is given (box and mask input from the prior,
clipped clicks, SAM's multimask rule), and on the model trained here on synthetic pitch footage (`nano-pitch`) a
click on a player that finds that player.

Torch runs on the threads tests/conftest.py pins for the whole test process.

What nano-pitch gives, measured on 8 synthetic 640x360 clips (seeds 1-8, 2 players, frame 0, the prompts file's
click): the single-click preview's IoU with the clicked player's truth is 0.61-0.73 for one player in 6 of 8 clips,
0.02-0.37 for the other; in every one of the 16 cases the preview covers at least 20x the share of the player that
it covers of the background. Negative clicks barely move its masks: placed on preview pixels off the player, the
decoder logit at the clicked pixel moved by -0.03 on average (with the prior) and the pixel turned off in 2 of 64
cases; so for negatives this file asserts that they reach the decoder (equality with stock sam2 below) and change
the preview, not that nano-pitch removes the pixel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image

from playerseg.annotate.preview import PRIOR_LOGIT, MaskPreview, PreviewError, decoder_prompt
from playerseg.io.masks import bbox_from_mask, read_palette_png
from playerseg.io.prompts import Box, Point, PromptSet
from playerseg.synthetic.dataset import generate_dataset
from playerseg.tracking.registry import LoadedModel, load_video_model

TEST_MODEL = "test-sam2.1-tiny-128"
WIDTH, HEIGHT = 160, 96  # the random frame for the test-size model (not square: the decoder squeezes it to 128x128)
# nano-pitch's clip: the size it was trained at; seed 2 is one of the measured clips (IoU 0.68 and 0.20)
PITCH_WIDTH, PITCH_HEIGHT, PITCH_SEED = 640, 360, 2
MIN_BEST_IOU = 0.5  # the better-found player of the clip (measured 0.68; 0.61-0.73 on 6 of the 8 clips measured)
MIN_PLAYER_OVER_BACKGROUND = 10.0  # share of the player covered / share of the background covered (measured >= 20)


@pytest.fixture(scope="module")
def test_model() -> LoadedModel:
    return load_video_model(TEST_MODEL, device="cpu")


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)


def stock_predictor(model: LoadedModel, rgb: np.ndarray) -> Any:
    """sam2's own image predictor on the model's weights with `rgb` set. sam2 hard-codes the feature-map sizes of a
    1024 px model; at 128 px the backbone's levels are 32, 16 and 8 cells wide."""
    import torch
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    predictor = SAM2ImagePredictor(model.predictor)
    predictor._bb_feat_sizes = [(32, 32), (16, 16), (8, 8)]
    with torch.inference_mode():
        predictor.set_image(rgb)
    return predictor


def stock_predict(predictor: Any, **prompt: Any) -> tuple[np.ndarray, float]:
    import torch

    with torch.inference_mode():
        masks, scores, _ = predictor.predict(**prompt)
    best = int(np.argmax(scores))
    return masks[best] > 0.5, float(scores[best])


def count_encodings(model: LoadedModel, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each call of the image encoder appends to the returned list."""
    calls: list[int] = []
    forward_image = model.predictor.forward_image

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return forward_image(*args, **kwargs)

    monkeypatch.setattr(model.predictor, "forward_image", counted)
    return calls


# ---------------------------------------------------------------- against stock sam2 (test-size model)


def test_a_positive_and_a_negative_click_give_stock_sam2s_mask(test_model: LoadedModel, frame: np.ndarray) -> None:
    points = [Point(100, 40), Point(30, 70, positive=False)]
    got = MaskPreview(test_model).preview((0,), frame, points)
    mask, score = stock_predict(
        stock_predictor(test_model, frame),
        point_coords=np.array([[100, 40], [30, 70]], dtype=np.float32),
        point_labels=np.array([1, 0]),
        multimask_output=False,
    )
    assert got.mask.dtype == bool and got.mask.shape == (HEIGHT, WIDTH)
    assert np.array_equal(got.mask, mask)
    assert got.score == pytest.approx(score, abs=1e-6)


def test_a_box_gives_stock_sam2s_mask(test_model: LoadedModel, frame: np.ndarray) -> None:
    got = MaskPreview(test_model).preview((0,), frame, [], box=Box(20, 10, 90, 80))
    mask, score = stock_predict(
        stock_predictor(test_model, frame), box=np.array([20, 10, 90, 80], dtype=np.float32), multimask_output=False
    )
    assert np.array_equal(got.mask, mask)
    assert got.score == pytest.approx(score, abs=1e-6)


def test_a_single_click_keeps_the_best_of_stock_sam2s_three_masks(test_model: LoadedModel, frame: np.ndarray) -> None:
    got = MaskPreview(test_model).preview((0,), frame, [Point(60, 50)])
    mask, score = stock_predict(
        stock_predictor(test_model, frame),
        point_coords=np.array([[60, 50]], dtype=np.float32),
        point_labels=np.array([1]),
        multimask_output=True,
    )
    assert np.array_equal(got.mask, mask)
    assert got.score == pytest.approx(score, abs=1e-6)


# ---------------------------------------------------------------- one encoding per frame key


def test_the_image_is_encoded_once_per_key(
    test_model: LoadedModel, frame: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_encodings(test_model, monkeypatch)
    preview = MaskPreview(test_model)
    clicks = [[Point(60, 50)], [Point(60, 50), Point(10, 10, positive=False)], [Point(60, 50), Point(120, 30)]]
    results = [preview.preview((3,), frame, points) for points in clicks]
    assert len(calls) == 1
    again = preview.preview((3,), frame, clicks[0])  # the kept embedding gives the first click's mask again
    assert np.array_equal(again.mask, results[0].mask) and len(calls) == 1
    other = frame[::-1].copy()
    preview.preview((4,), other, clicks[0])
    assert len(calls) == 2
    preview.preview((3,), frame, clicks[0])  # only the last key is kept
    assert len(calls) == 3


def test_a_new_key_shows_the_new_frame(test_model: LoadedModel, frame: np.ndarray) -> None:
    other = np.random.default_rng(8).integers(0, 256, size=frame.shape, dtype=np.uint8)
    preview = MaskPreview(test_model)
    preview.preview((0,), frame, [Point(60, 50)])
    assert np.array_equal(
        preview.preview((1,), other, [Point(60, 50)]).mask,
        MaskPreview(test_model).preview((1,), other, [Point(60, 50)]).mask,
    )


# ---------------------------------------------------------------- what the decoder is given


def test_a_prior_gives_its_box_and_itself_as_logits() -> None:
    prior = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    prior[20:60, 40:120] = 1  # squeezed to 32x32 (5 columns, 3 rows a cell): columns 8..23, rows 7..19 (row 6 is 1/3)
    prompt = decoder_prompt([Point(50, 30, positive=False)], None, prior.astype(bool), (HEIGHT, WIDTH), (32, 32))
    assert prompt.box is not None and prompt.box.tolist() == list(bbox_from_mask(prior)) == [40, 20, 120, 60]
    assert prompt.mask_input is not None and prompt.mask_input.shape == (1, 32, 32)
    assert prompt.mask_input.dtype == np.float32
    assert set(np.unique(prompt.mask_input)) == {-PRIOR_LOGIT, PRIOR_LOGIT}
    inside = prompt.mask_input[0] > 0
    assert inside[:, 8:24].any(axis=0).all() and not inside[:, :8].any() and not inside[:, 24:].any()
    assert inside[7:20].any(axis=1).all() and not inside[:7].any() and not inside[20:].any()
    assert prompt.point_labels is not None and prompt.point_labels.tolist() == [0]
    assert prompt.multimask_output is False


def test_a_user_box_wins_over_the_priors_box_and_is_clipped_to_the_frame() -> None:
    prior = np.zeros((HEIGHT, WIDTH), dtype=bool)
    prior[20:60, 40:120] = True
    prompt = decoder_prompt([], Box(-10, 5, 500, 50), prior, (HEIGHT, WIDTH), (32, 32))
    assert prompt.box is not None and prompt.box.tolist() == [0, 5, WIDTH, 50]
    assert prompt.mask_input is not None


def test_clicks_outside_the_frame_are_clipped_to_it() -> None:
    prompt = decoder_prompt([Point(-5, 30), Point(400, 300, positive=False)], None, None, (HEIGHT, WIDTH), (32, 32))
    assert prompt.point_coords is not None and prompt.point_coords.tolist() == [[0, 30], [WIDTH - 1, HEIGHT - 1]]
    assert prompt.point_labels is not None and prompt.point_labels.tolist() == [1, 0]


def test_only_a_single_positive_click_asks_for_several_masks() -> None:
    prior = np.zeros((HEIGHT, WIDTH), dtype=bool)
    prior[5:9, 5:9] = True
    cases = {
        "one click": ([Point(3, 3)], None, None),
        "two clicks": ([Point(3, 3), Point(9, 9)], None, None),
        "click and box": ([Point(3, 3)], Box(0, 0, 10, 10), None),
        "click and prior": ([Point(3, 3)], None, prior),
    }
    multimask = {
        name: decoder_prompt(points, box, mask, (HEIGHT, WIDTH), (32, 32)).multimask_output
        for name, (points, box, mask) in cases.items()
    }
    assert multimask == {"one click": True, "two clicks": False, "click and box": False, "click and prior": False}


def test_a_prior_changes_the_preview(test_model: LoadedModel, frame: np.ndarray) -> None:
    preview = MaskPreview(test_model)
    prior = np.zeros((HEIGHT, WIDTH), dtype=bool)
    prior[20:60, 40:120] = True
    clicks = [Point(60, 50), Point(100, 30, positive=False)]
    assert not np.array_equal(
        preview.preview((0,), frame, clicks).mask, preview.preview((0,), frame, clicks, prior=prior).mask
    )
    empty = np.zeros((HEIGHT, WIDTH), dtype=bool)  # an empty prior is no prior
    assert np.array_equal(
        preview.preview((0,), frame, clicks).mask, preview.preview((0,), frame, clicks, prior=empty).mask
    )


# ---------------------------------------------------------------- errors


def one_sentence(message: str) -> bool:
    return message.endswith(".") and ". " not in message and "\n" not in message


def test_negative_clicks_alone_without_a_prior_are_refused_before_encoding(
    test_model: LoadedModel, frame: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_encodings(test_model, monkeypatch)
    with pytest.raises(PreviewError) as raised:
        MaskPreview(test_model).preview((0,), frame, [Point(10, 10, positive=False), Point(20, 20, positive=False)])
    message = str(raised.value)
    assert one_sentence(message) and "positive" in message and "box" in message
    assert isinstance(raised.value, ValueError) and calls == []


@pytest.mark.parametrize(
    ("rgb", "prior", "words"),
    [
        (np.zeros((HEIGHT, WIDTH), dtype=np.uint8), None, "RGB image"),
        (np.zeros((HEIGHT, WIDTH, 3), dtype=np.float32), None, "uint8"),
        (np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8), np.ones((10, 10), dtype=bool), "mask of this frame"),
    ],
)
def test_a_wrong_frame_or_prior_is_one_sentence(
    test_model: LoadedModel, rgb: np.ndarray, prior: np.ndarray | None, words: str
) -> None:
    with pytest.raises(PreviewError) as raised:
        MaskPreview(test_model).preview((0,), rgb, [Point(1, 1)], prior=prior)
    assert one_sentence(str(raised.value)) and words in str(raised.value)


def test_a_box_off_the_frame_is_one_sentence(test_model: LoadedModel, frame: np.ndarray) -> None:
    with pytest.raises(PreviewError) as raised:
        MaskPreview(test_model).preview((0,), frame, [], box=Box(WIDTH + 5, 0, WIDTH + 50, 40))
    assert one_sentence(str(raised.value))


# ---------------------------------------------------------------- nano-pitch on a synthetic clip with exact truth


@pytest.fixture(scope="module")
def pitch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Frame 0 of a synthetic pitch clip, its truth labels and the prompts file's click per player."""
    root = tmp_path_factory.mktemp("pitch")
    generate_dataset(root, sequences=1, frames=2, players=2, width=PITCH_WIDTH, height=PITCH_HEIGHT, seed=PITCH_SEED)
    rgb = np.asarray(Image.open(root / "JPEGImages" / "seq000" / "00000.jpg").convert("RGB"))
    labels = read_palette_png(root / "Annotations" / "seq000" / "00000.png")
    prompts = PromptSet.load(root / "prompts" / "seq000.json").merged()
    clicks = {p.object_id: p.points[0] for p in prompts.prompts if p.frame == 0}
    assert sorted(clicks) == [1, 2]
    return {"rgb": rgb, "labels": labels, "clicks": clicks, "model": load_video_model("nano-pitch", device="cpu")}


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_nano_pitch_a_click_on_a_player_finds_that_player(pitch: dict[str, Any]) -> None:
    preview = MaskPreview(pitch["model"])
    labels: np.ndarray = pitch["labels"]
    background = labels == 0
    ious = {}
    for player, click in pitch["clicks"].items():
        truth = labels == player
        mask = preview.preview((0,), pitch["rgb"], [click]).mask
        ious[player] = iou(mask, truth)
        player_share = (mask & truth).sum() / truth.sum()
        background_share = (mask & background).sum() / background.sum()
        print(f"player {player}: IoU {ious[player]:.3f}, {player_share:.3f} of it, {background_share:.4f} of the rest")
        assert player_share > MIN_PLAYER_OVER_BACKGROUND * background_share
    assert max(ious.values()) > MIN_BEST_IOU


def test_nano_pitch_a_negative_click_on_the_preview_changes_it(pitch: dict[str, Any]) -> None:
    """A negative click on a preview pixel that is not the player (where a user would click to trim it), with the
    preview as the prior: the new preview differs. nano-pitch barely reacts to negatives (module docstring)."""
    preview = MaskPreview(pitch["model"])
    labels: np.ndarray = pitch["labels"]
    for player, click in pitch["clicks"].items():
        first = preview.preview((0,), pitch["rgb"], [click]).mask
        ys, xs = np.nonzero(first & (labels != player))
        assert len(xs) > 0
        negative = Point(int(xs[len(xs) // 2]), int(ys[len(ys) // 2]), positive=False)
        with_prior = preview.preview((0,), pitch["rgb"], [click], prior=first).mask
        trimmed = preview.preview((0,), pitch["rgb"], [click, negative], prior=first).mask
        print(
            f"player {player}: {first.sum()} px, with the prior {with_prior.sum()}, after the negative {trimmed.sum()}"
        )
        assert not np.array_equal(trimmed, with_prior)
