"""SAM 3's concept detection and tracking (transformers' `Sam3VideoModel`): its models, and a streaming session.

A text prompt ("person", or any short phrase) makes SAM 3 detect every instance of the concept on every frame and
track each one with its own tracker, under object ids it keeps. This module owns the models and the session; what
becomes of the objects (the player filter, track ids, the run) is playerseg.autolabel.sam3_labeler's job.

Models (`sam3_video_spec`): `sam3`, the real weights from the gated Hugging Face repo facebook/sam3 (the same repo
as the click-prompted tracker of sam3_model), and `test-sam3`, the real Sam3VideoModel architecture at toy sizes with
random weights from a fixed seed (its detections mean nothing; it exists for tests). The test model's processor
needs a text tokenizer without the Hub: `tiny_clip_tokenizer` builds a CLIP-style byte-level BPE from an in-code
vocabulary (every byte, plus merges that make "person" one token), enough for any short phrase.

The session (`Sam3VideoStream`) runs transformers' own `Sam3VideoModel.forward` on each frame, forward only, on a
`Sam3VideoInferenceSession` whose `processed_frames` is a lazy feed (frames are read and preprocessed one at a time,
the last two kept), and hands out each frame's objects as the stock `propagate_in_video_iterator` +
`Sam3VideoProcessor.postprocess_outputs` would: outputs are held back `hotstart_delay` frames (SAM 3 removes
objects it judges spurious within that window, on every frame they were shown), then post-processed.

Flat memory: after each frame the per-frame state the model will not read again is dropped -- tracked outputs further
back than its memory and object-pointer window, the high-resolution masks kept after memory encoding, detection masks
given to new objects once used, per-frame score and suppression tables of past frames, and the hot-start frame lists
beyond the length its rules compare (they only count them). Conditioning frames (an object's first frame, and the
frames SAM 3 re-conditions on every 16th frame) keep their memory while the model can still select them (the
`max_cond_frame_num` most recent, or within the memory window); older ones keep only their object pointer, which the
model reads from every conditioning frame -- a vector per object per re-conditioning, as stock SAM 3 reads it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation.profiling import FrameProfiler
from playerseg.tracking.frames import FrameSource
from playerseg.tracking.registry import (
    RANDOM_WEIGHTS,
    RANDOM_WEIGHTS_LABEL,
    TEST_MODEL_SEED,
    LoadedModel,
    ModelSpec,
    ModelUnavailableError,
    check_device,
    file_sha256,
)
from playerseg.tracking.sam3_model import (
    SAM3_FAMILY,
    SAM3_HUB_REPO,
    SAM3_IMAGE_SIZE,
    SAM3_PATCH_SIZE,
    TEST_SAM3_IMAGE_SIZE,
    _cached_weights_file,
    _hub_offline,
    hub_unavailable_message,
    sam3_config,
    test_sam3_spec,
)
from playerseg.tracking.sam3_tracker import Sam3FrameFeed
from playerseg.tracking.step import FrameResult
from playerseg.tracking.tracker import TrackingError

SAM3_VIDEO_NAMES = ("sam3", "test-sam3")
TEST_SAM3_VIDEO_CONFIG = "sam3-video-test"
FULL_SAM3_VIDEO_CONFIG = "sam3-video"
TEXT_MAX_LENGTH = 32  # the processor pads every prompt to 32 tokens (CLIP's context in SAM 3)
TEST_WORD = "person"  # the tiny tokenizer's one merged word
# The test model's random detector scores every query about 0.3-0.4: thresholds among them make it find a few
# objects a frame; its random tracker loses them at once, so new ones start every frame -- at most 8 in all keeps
# its cost per frame bounded. A short hot-start window makes short test clips exercise SAM 3's removal rules.
TEST_THRESHOLDS = {
    "score_threshold_detection": 0.37,
    "new_det_thresh": 0.4,
    "max_num_objects": 8,
    "hotstart_delay": 4,
    "hotstart_unmatch_thresh": 2,
    "hotstart_dup_thresh": 2,
    "recondition_every_nth_frame": 4,
}


@dataclass
class Sam3VideoPredictor:
    """What the session needs: the transformers model and the processor (frames, text, post-processing)."""

    model: Any  # transformers.Sam3VideoModel
    processor: Any  # transformers.Sam3VideoProcessor


def sam3_video_spec(name: str) -> ModelSpec:
    """`sam3` (facebook/sam3's weights) or `test-sam3` (toy sizes, random weights); one sentence for any other."""
    if name == "sam3":
        return ModelSpec(
            name="sam3",
            config=FULL_SAM3_VIDEO_CONFIG,
            image_size=SAM3_IMAGE_SIZE,
            source="hub",
            hf_repo=SAM3_HUB_REPO,
            description=f"SAM 3 concept detection + tracking, weights from the gated Hub repo {SAM3_HUB_REPO}",
            family=SAM3_FAMILY,
        )
    if name == "test-sam3":
        return ModelSpec(
            name="test-sam3",
            config=TEST_SAM3_VIDEO_CONFIG,
            image_size=TEST_SAM3_IMAGE_SIZE,
            source=RANDOM_WEIGHTS,
            seed=TEST_MODEL_SEED,
            description=f"SAM 3 video architecture at toy sizes and {TEST_SAM3_IMAGE_SIZE} px, {RANDOM_WEIGHTS_LABEL}",
            family=SAM3_FAMILY,
        )
    raise ModelUnavailableError(f"Unknown SAM 3 detection model '{name}': use one of {', '.join(SAM3_VIDEO_NAMES)}.")


def sam3_phrases(text: str) -> list[str]:
    """The prompt's phrases, as SAM 3 takes them: split at "." and ",", lowercase, inner whitespace collapsed
    ("Player. referee" -> ["player", "referee"]); each is its own SAM 3 prompt. Raises ValueError when empty."""
    if not isinstance(text, str):
        raise ValueError(f"The text prompt must be a string such as 'person', got {type(text).__name__}.")
    phrases = [" ".join(piece.split()) for piece in text.lower().replace(",", ".").split(".")]
    phrases = [phrase for phrase in phrases if phrase]
    if not phrases:
        raise ValueError(f"The text prompt {text!r} holds no words: give what to detect, e.g. 'person'.")
    return list(dict.fromkeys(phrases))


def tiny_clip_tokenizer() -> Any:
    """A CLIP tokenizer (byte-level BPE, lowercase, `</w>` word ends) over an in-code vocabulary: the start and end
    tokens, each of the 256 byte symbols alone and at a word's end, and the merges that make "person" one token.
    Any phrase encodes (as bytes); only the test model uses it, so the ids mean nothing beyond that model."""
    from tokenizers import pre_tokenizers
    from transformers import CLIPTokenizer

    symbols = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for symbol in [*symbols, *(f"{s}</w>" for s in symbols)]:
        vocab[symbol] = len(vocab)
    merges: list[tuple[str, str]] = []
    merged = TEST_WORD[0]
    for position, letter in enumerate(TEST_WORD[1:], start=2):
        piece = f"{letter}</w>" if position == len(TEST_WORD) else letter
        merges.append((merged, piece))
        merged += piece
        vocab[merged] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=merges)


def sam3_video_config(spec: ModelSpec, vocab_size: int) -> Any:
    """The transformers `Sam3VideoConfig` of a random-weight spec: transformers' defaults (SAM 3's real architecture)
    for the full size, or toy sizes for the test config: the tracker is sam3_model's test tracker; the detector's
    vision trunk is the same toy ViT, and its feature pyramid, DETR encoder/decoder, geometry encoder and mask
    decoder share the tracker's 128-channel width (the tracker reads the detector's features)."""
    from transformers import Sam3VideoConfig
    from transformers.models.sam3.configuration_sam3 import (
        Sam3Config,
        Sam3DETRDecoderConfig,
        Sam3DETREncoderConfig,
        Sam3GeometryEncoderConfig,
        Sam3MaskDecoderConfig,
    )

    if spec.config == FULL_SAM3_VIDEO_CONFIG:
        return Sam3VideoConfig()
    if spec.config != TEST_SAM3_VIDEO_CONFIG:
        raise ModelUnavailableError(f"Model {spec.name} names an unknown SAM 3 video config '{spec.config}'.")
    tracker = sam3_config(test_sam3_spec())
    vision = tracker.vision_config.to_dict()
    patches = spec.image_size // SAM3_PATCH_SIZE
    vision["backbone_feature_sizes"] = [[4 * patches] * 2, [2 * patches] * 2, [patches] * 2]
    hidden, layers, heads, init = tracker.vision_config.fpn_hidden_size, 1, 2, 0.1
    text = {
        "model_type": "clip_text_model",
        "vocab_size": vocab_size,
        "hidden_size": 32,
        "intermediate_size": 64,
        "projection_dim": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "max_position_embeddings": TEXT_MAX_LENGTH,
        "bos_token_id": 0,
        "eos_token_id": 1,
        "pad_token_id": 1,
    }
    blocks = {
        "hidden_size": hidden,
        "num_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": 2 * hidden,
    }
    detector = Sam3Config(
        vision_config=vision,
        text_config=text,
        geometry_encoder_config=Sam3GeometryEncoderConfig(**blocks),
        detr_encoder_config=Sam3DETREncoderConfig(**blocks),
        detr_decoder_config=Sam3DETRDecoderConfig(**blocks, num_queries=20),
        mask_decoder_config=Sam3MaskDecoderConfig(hidden_size=hidden, num_attention_heads=heads),
        initializer_range=init,
    )
    return Sam3VideoConfig(
        detector_config=detector,
        tracker_config=tracker,
        low_res_mask_size=4 * patches,
        initializer_range=init,
        **TEST_THRESHOLDS,
    )


def sam3_video_processor(image_size: int, tokenizer: Any) -> Any:
    """The processor of a random-weight model, built like facebook/sam3's: SAM 3's image processor, frames resized
    to the square input with mean and std 0.5, and the given tokenizer."""
    from transformers import Sam2VideoVideoProcessor, Sam3ImageProcessor, Sam3VideoProcessor

    from playerseg.tracking.sam3_model import SAM3_IMAGE_MEAN, SAM3_IMAGE_STD

    size = {"height": image_size, "width": image_size}
    video = Sam2VideoVideoProcessor(image_mean=list(SAM3_IMAGE_MEAN), image_std=list(SAM3_IMAGE_STD), size=size)
    return Sam3VideoProcessor(
        image_processor=Sam3ImageProcessor(size=size),
        video_processor=video,
        tokenizer=tokenizer,
        target_size=image_size,
    )


def load_sam3_video_model(name: str, device: str) -> LoadedModel:
    """Build (test-sam3: random weights, fixed seed) or load (sam3: facebook/sam3) SAM 3's video model on `device`,
    with its processor; a missing gated checkpoint is one sentence (repo, licence, HF_TOKEN)."""
    import torch
    from transformers import Sam3VideoModel, Sam3VideoProcessor

    spec = sam3_video_spec(name)
    check_device(device)
    warnings: list[str] = []
    if spec.source == RANDOM_WEIGHTS:
        tokenizer = tiny_clip_tokenizer()
        config = sam3_video_config(spec, len(tokenizer.get_vocab()))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(TEST_MODEL_SEED if spec.seed is None else spec.seed)
            model = Sam3VideoModel(config)
        processor = sam3_video_processor(spec.image_size, tokenizer)
        checkpoint = sha = RANDOM_WEIGHTS
        warnings.append(f"{spec.name} (SAM 3 detection + tracking) has {RANDOM_WEIGHTS_LABEL}")
    else:
        repo = str(spec.hf_repo)
        try:
            model = Sam3VideoModel.from_pretrained(repo, local_files_only=_hub_offline(), dtype=torch.float32)
            processor = Sam3VideoProcessor.from_pretrained(repo, local_files_only=_hub_offline())
        except Exception as error:  # offline, no network, gated repo without a token: all mean "not available here"
            raise ModelUnavailableError(hub_unavailable_message(spec, error)) from error
        weights = _cached_weights_file(repo)
        checkpoint = str(weights.parent) if weights is not None else repo
        sha = file_sha256(weights) if weights is not None else "unknown"
    model.to(device)
    model.eval()
    predictor = Sam3VideoPredictor(model=model, processor=processor)
    return LoadedModel(spec, predictor, device, checkpoint, sha, warnings=warnings)


@dataclass(frozen=True)
class Sam3Thresholds:
    """SAM 3's two detection thresholds: a detection scoring below `detection` is ignored; one that matches no
    object starts a new object only at `new_object` or above (facebook/sam3: 0.5 and 0.7)."""

    detection: float
    new_object: float

    @classmethod
    def of(cls, model: LoadedModel) -> Sam3Thresholds:
        """The thresholds the model's config gives it."""
        config = model.predictor.model.config
        return cls(float(config.score_threshold_detection), float(config.new_det_thresh))

    @classmethod
    def both(cls, value: float) -> Sam3Thresholds:
        """One threshold as Grounding DINO's box threshold works: a detection scoring above `value` counts, and
        starts a new object when no object has it. (Stock SAM 3 starts every counted detection on a frame with no
        objects whatever the new-object threshold.)"""
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"A SAM 3 threshold must be from 0 to 1, got {value}.")
        return cls(detection=value, new_object=value)


@dataclass(frozen=True)
class Sam3Frame:
    """One frame's objects as SAM 3 hands them out (post-processed), and what the frame cost."""

    frame: int
    masks: dict[int, np.ndarray]  # SAM 3 object id -> bool HxW at the frames' size, non-overlapping
    scores: dict[int, float]  # SAM 3 object id -> its detection probability
    labels: dict[int, str]  # SAM 3 object id -> the phrase that found it
    cost: FrameResult  # latency (model + post-processing), frame read, memory; object_scores = `scores`


class Sam3VideoStream(AbstractContextManager["Sam3VideoStream"]):
    """SAM 3 detects and tracks the text's concept through a clip, forward only, frames read one at a time."""

    def __init__(
        self,
        model: LoadedModel,
        frames: FrameSource,
        text: str | Sequence[str],
        thresholds: Sam3Thresholds | None = None,
    ) -> None:
        """`thresholds` (None: the model's own) hold for this session only; close() gives the model its own back.
        They are set on the model itself (transformers reads them there): sessions running at once on one shared
        model (the app's pool) must not ask for different ones -- only the CLI asks for any."""
        import torch
        from transformers import Sam3VideoInferenceSession

        if len(frames) == 0:
            raise TrackingError("The clip has no frames to track.")
        if not isinstance(model.predictor, Sam3VideoPredictor):
            raise TrackingError(f"Model {model.spec.name} is not SAM 3's video model (load_sam3_video_model).")
        self.model = model
        self.frames = frames
        self.phrases = sam3_phrases(text) if isinstance(text, str) else [p for t in text for p in sam3_phrases(t)]
        self._model = model.predictor.model
        self._processor = model.predictor.processor
        self._feed = Sam3FrameFeed(frames, self._processor, model.device)
        device = model.device
        self.session = Sam3VideoInferenceSession(
            video_height=frames.height,
            video_width=frames.width,
            inference_device=device,
            inference_state_device=device,
            video_storage_device=device,
            dtype=torch.float32,
        )
        self.session.processed_frames = self._feed  # num_frames is the clip's length; frames read when asked for
        self._processor.add_text_prompt(self.session, self.phrases)
        tracker = self._model.config.tracker_config
        self.window = max(tracker.num_maskmem - 1, tracker.max_object_pointers_in_encoder - 1, 1)
        self.profiler = FrameProfiler(device, name=model.spec.name)
        self._pending: list[tuple[Any, float, float]] = []  # held-back outputs: (output, model ms, frame-read ms)
        self.frames_held_peak = 0  # most frames with per-frame state after any frame
        self._own_thresholds = Sam3Thresholds.of(model)
        self.thresholds = thresholds or self._own_thresholds
        self._set_thresholds(self.thresholds)

    def _set_thresholds(self, thresholds: Sam3Thresholds) -> None:
        """transformers' Sam3VideoModel reads its thresholds from these attributes on every frame."""
        self._model.score_threshold_detection = thresholds.detection
        self._model.new_det_thresh = thresholds.new_object

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the session's state (features, memories, frames) so its memory can be freed."""
        self.session.reset_state()
        self._pending.clear()
        self._feed.clear()
        self._set_thresholds(self._own_thresholds)

    def run(self) -> Iterator[Sam3Frame]:
        """Every frame's objects, in frame order; each is handed out `hotstart_delay` frames after it ran (the last
        ones at the end), as transformers' `propagate_in_video_iterator` yields them."""
        self.profiler.start()
        last = len(self.frames) - 1
        delay = self._model.hotstart_delay
        for frame in range(len(self.frames)):
            output, model_ms, read_ms = self._step(frame)
            if delay <= 0:
                yield self._finish(output, model_ms, read_ms)
                continue
            self._pending.append((output, model_ms, read_ms))
            self.session.hotstart_removed_obj_ids.update(output.removed_obj_ids)
            released = len(self._pending) if frame == last else int(len(self._pending) >= delay)
            for _ in range(released):
                yield self._finish(*self._pending.pop(0))

    def _step(self, frame: int) -> tuple[Any, float, float]:
        """transformers' forward on one frame, then the state it will not read again forgotten."""
        import torch

        self.profiler.synchronize()
        started = time.perf_counter()
        self._feed.last_fetch_ms = 0.0
        with torch.inference_mode():
            output = self._model(inference_session=self.session, frame_idx=frame)
        read_ms = self._feed.last_fetch_ms
        self.forget(frame)
        self.frames_held_peak = max(self.frames_held_peak, self.frames_held())
        self.profiler.synchronize()
        return output, (time.perf_counter() - started) * 1000.0, read_ms

    def _finish(self, output: Any, model_ms: float, read_ms: float) -> Sam3Frame:
        """Post-process a released output (masks at the frames' size, SAM 3's hidden objects left out)."""
        self.profiler.synchronize()
        started = time.perf_counter()
        processed = self._processor.postprocess_outputs(self.session, output)
        ids = [int(obj) for obj in processed["object_ids"].tolist()]
        masks = {obj: mask.cpu().numpy().astype(bool) for obj, mask in zip(ids, processed["masks"])}
        scores = {obj: float(score) for obj, score in zip(ids, processed["scores"].tolist())}
        labels = {int(obj): text for text, objs in processed["prompt_to_obj_ids"].items() for obj in objs}
        self.profiler.synchronize()
        latency_ms = model_ms + (time.perf_counter() - started) * 1000.0
        frame = int(output.frame_idx)
        self.profiler.record(frame, latency_ms, prompt=frame == 0, decode_ms=read_ms)
        memory_mb, peak_mb = self.profiler.memory_now()
        cost = FrameResult(frame, masks, scores, latency_ms, 0.0, read_ms, 0.0, memory_mb, peak_mb, reverse=False)
        return Sam3Frame(frame=frame, masks=masks, scores=scores, labels=labels, cost=cost)

    def forget(self, frame: int) -> None:
        """After `frame`: drop what the model will not read again going forward (see the module docstring)."""
        session = self.session
        cond_kept = self._model.tracker_model.config.max_cond_frame_num
        for index, outputs in session.output_dict_per_obj.items():
            for kind in ("cond_frame_outputs", "non_cond_frame_outputs"):
                outputs[kind].get(frame, {}).pop("high_res_masks", None)
            tracked, marks = outputs["non_cond_frame_outputs"], session.frames_tracked_per_obj[index]
            for old in [k for k in (*tracked, *marks) if frame - k >= self.window]:
                tracked.pop(old, None)
                marks.pop(old, None)
            conditioning = outputs["cond_frame_outputs"]
            if len(conditioning) > cond_kept:
                for old in sorted(conditioning)[:-cond_kept]:
                    if frame + 1 - old >= tracker_memory(self._model):
                        conditioning[old] = {k: v for k, v in conditioning[old].items() if k in _POINTER_KEYS}
            for old in [k for k in session.mask_inputs_per_obj[index] if k <= frame]:
                session.mask_inputs_per_obj[index].pop(old)
        for table in (session.obj_id_to_tracker_score_frame_wise, session.suppressed_obj_ids):
            for old in [k for k in table if k < frame]:
                del table[old]
        _trim_lists(session.unmatched_frame_inds, self._model.hotstart_unmatch_thresh)
        _trim_lists(session.overlap_pair_to_frame_inds, self._model.hotstart_dup_thresh)

    def frames_held(self) -> int:
        """Distinct frames with per-frame state (tensors, or per-frame tables) in the session, the feed and the
        held-back outputs; conditioning frames that keep only their object pointer are `pointer_frames()`."""
        session = self.session
        held = set(session.cache._vision_features) | set(self._feed.cached_frames())
        held |= set(session.obj_id_to_tracker_score_frame_wise) | set(session.suppressed_obj_ids)
        held |= {int(output.frame_idx) for output, _, _ in self._pending}
        for index, outputs in session.output_dict_per_obj.items():
            held |= set(outputs["non_cond_frame_outputs"]) | set(session.frames_tracked_per_obj[index])
            held |= {k for k, v in outputs["cond_frame_outputs"].items() if set(v) - _POINTER_KEYS}
            held |= set(session.mask_inputs_per_obj[index])
        return len(held)

    def pointer_frames(self) -> int:
        """Conditioning entries kept for their object pointer alone (what stock SAM 3 reads from all of them)."""
        outputs = self.session.output_dict_per_obj.values()
        return sum(not set(v) - _POINTER_KEYS for out in outputs for v in out["cond_frame_outputs"].values())


_POINTER_KEYS = {"object_pointer", "object_score_logits"}


def tracker_memory(model: Any) -> int:
    """How many frames back the tracker reads an unselected conditioning frame's memory (num_maskmem - 1), + 1."""
    return int(model.tracker_model.config.num_maskmem)


def _trim_lists(table: dict[Any, list[int]], keep: int) -> None:
    """Keep the last `keep` entries of each list: SAM 3's hot-start rules only ask whether one has `keep` or more."""
    if keep <= 0:
        return
    for values in table.values():
        del values[:-keep]
