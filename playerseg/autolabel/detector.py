"""Text-prompted person detection with Grounding DINO (transformers), the auto-labeler's first step.

A detector name is one of the hub models (`grounding-dino-tiny`, `grounding-dino-base`: weights from the Hugging
Face Hub), the test-size model `test-gdino-tiny` (the real Grounding DINO architecture with a tiny config, random
weights from a fixed seed and a tokenizer built here from a generated vocabulary: no download, ever), or a local
folder written by `save_pretrained` (model and processor).

    detector = load_detector("grounding-dino-tiny")
    detections = detector.detect(rgb, "person.")   # boxes in the frame's pixels, best first

Heavy imports (torch, transformers) happen inside the functions that need them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from playerseg.tracking.registry import (
    RANDOM_WEIGHTS,
    TEST_MODEL_SEED,
    ModelUnavailableError,
    check_device,
    default_device,
)

DEFAULT_TEXT = "person."
DETECTOR_RANDOM_WEIGHTS_LABEL = "random weights (test-size detector: its boxes mean nothing)"
# Marker written into a test model's config.json, so that a saved copy is still labelled as random weights.
RANDOM_WEIGHTS_CONFIG_KEY = "playerseg_random_weights"
TEST_DETECTOR_NAME = "test-gdino-tiny"
MAX_ASPECT_RATIO = 16  # thinner frames shrink to zero rows in the test model's resize; no video frame is that thin

# Test-size model: the real architecture, small enough to build in a blink and run a frame in tens of ms on 1 core.
TEST_IMAGE_SIZE = {"shortest_edge": 128, "longest_edge": 224}  # what its image processor resizes frames to
TEST_MAX_TEXT_TOKENS = 64
# Grounding DINO splits the prompt into phrases at token ids hard-coded for bert-base-uncased
# (modeling_grounding_dino.SPECIAL_TOKENS: [CLS] 101, [SEP] 102, "." 1012, "?" 1029), so the generated vocabulary
# puts those tokens at the same ids as BERT's does; the ids in between are "[unusedN]" fillers, as in BERT.
_BERT_TOKEN_IDS = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103, ",": 1010, ".": 1012, "?": 1029}
_FIRST_WORD_ID = 1030
_VOCAB_WORDS = """
person people player players referee referees linesman assistant goalkeeper keeper coach manager staff steward
fan fans spectator spectators crowd audience team teams captain substitute defender midfielder striker forward
winger man men woman women boy girl child children human body head face hair arm arms hand hands leg legs foot feet
shirt shorts socks boots jersey kit bib vest cap hat glove gloves ball football soccer goal goals net post posts
bar crossbar flag corner pitch field grass turf line lines touchline sideline halfway centre center circle box
penalty area stand stands stadium board boards banner advert advertising screen camera bench tunnel dugout tent
sky cloud clouds shadow shadows light lights floodlight tree trees fence wall seat seats chair road car bus
bicycle dog cat bird horse animal object thing mat judo judoka fighter athlete runner jogger juggler dancer
whistle card red yellow green blue white black orange purple pink grey gray brown dark bright light
left right top bottom front back near far small large big little tall short young old running walking standing
sitting jumping kicking throwing catching falling moving still wearing holding with without in on at of and or
the a an one two three four five six seven eight nine ten first second third last other another each every all
some no not this that these those near behind beside between over under above below up down
match game play kick pass shot save tackle header throw corner free foul offside half time score league cup club
home away attack defence defense midfield wing centre-back back full sweeper youth junior senior amateur pro
training drill cone cones hurdle ladder whistle watch phone bag bottle water towel stretcher medic doctor physio
photographer cameraman journalist mascot security police officer guard cleaner groundsman official officials
ballboy ballgirl kid baby adult group pair line-up wall shoulder knee elbow neck chest waist hip ankle shoe
helmet pads sleeve collar number name logo stripe striped plain checked sock jacket coat hoodie tracksuit
"""


class DetectorUnavailableError(ModelUnavailableError):
    """A detector cannot be built or loaded: unknown name, not in the cache offline, unreadable folder."""


@dataclass(frozen=True)
class Detection:
    """One detected box on the frame given to detect()."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels, inside the frame
    score: float  # in [0, 1]
    label: str  # the prompt phrase matched, e.g. "person"


@dataclass(frozen=True)
class DetectorSpec:
    """Where a detector's weights come from: "hub" (hf_repo), "local" (path) or "random" (seed; path when it is a
    saved copy of the test model)."""

    name: str
    source: str
    hf_repo: str | None = None
    path: str | None = None
    seed: int | None = None
    description: str = ""

    @property
    def random_weights(self) -> bool:
        return self.source == RANDOM_WEIGHTS


def _hub_spec(size: str) -> DetectorSpec:
    return DetectorSpec(
        name=f"grounding-dino-{size}",
        source="hub",
        hf_repo=f"IDEA-Research/grounding-dino-{size}",
        description=f"Grounding DINO {size} (zero-shot, text-prompted), weights from the Hugging Face Hub",
    )


DETECTORS: dict[str, DetectorSpec] = {
    spec.name: spec
    for spec in [
        _hub_spec("tiny"),
        _hub_spec("base"),
        DetectorSpec(
            name=TEST_DETECTOR_NAME,
            source=RANDOM_WEIGHTS,
            seed=TEST_MODEL_SEED,
            description=f"Grounding DINO architecture with a tiny config, {DETECTOR_RANDOM_WEIGHTS_LABEL}",
        ),
    ]
}


def list_detectors() -> list[str]:
    """Names of the built-in detectors (hub and test-size)."""
    return list(DETECTORS)


def normalise_text_prompt(text: str) -> str:
    """The prompt as Grounding DINO expects it: lowercase phrases, each ending with "." ("Player, referee" ->
    "player. referee."); raises ValueError when it holds no phrase."""
    if not isinstance(text, str):
        raise ValueError(f"The text prompt must be a string such as {DEFAULT_TEXT!r}, got {type(text).__name__}.")
    phrases = _phrases(text)
    if not phrases:
        raise ValueError(f"The text prompt {text!r} holds no words: give what to detect, e.g. {DEFAULT_TEXT!r}.")
    return " ".join(f"{phrase}." for phrase in phrases)


def _phrases(text: str) -> list[str]:
    """Lowercase phrases of a prompt, split at "." and ",", inner whitespace collapsed, empty ones dropped."""
    pieces = text.lower().replace(",", ".").split(".")
    return [" ".join(piece.split()) for piece in pieces if piece.strip()]


def get_detector_spec(name_or_path: str) -> DetectorSpec:
    """The spec for a detector name or a local folder saved with save_pretrained; raises DetectorUnavailableError
    when it is neither."""
    if name_or_path in DETECTORS:
        return DETECTORS[name_or_path]
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return _local_spec(path)
    known = ", ".join(list_detectors())
    raise DetectorUnavailableError(
        f"Unknown detector '{name_or_path}': use one of {known}, or the path of a folder holding a Grounding DINO "
        f"model and processor saved with save_pretrained."
    )


def _local_spec(folder: Path) -> DetectorSpec:
    config = _read_config_json(folder)
    if config.get("model_type") != "grounding-dino":
        raise DetectorUnavailableError(
            f"Folder {folder} does not hold a Grounding DINO model: its config.json says model_type "
            f"{config.get('model_type')!r}, not 'grounding-dino'."
        )
    path = str(folder.resolve())
    if config.get(RANDOM_WEIGHTS_CONFIG_KEY):  # a saved copy of the test model: still labelled as random weights
        seed = config.get("playerseg_seed")
        return DetectorSpec(
            name=folder.name,
            source=RANDOM_WEIGHTS,
            path=path,
            seed=int(seed) if isinstance(seed, int) else None,
            description=f"saved test-size detector at {folder}, {DETECTOR_RANDOM_WEIGHTS_LABEL}",
        )
    return DetectorSpec(name=folder.name, source="local", path=path, description=f"local Grounding DINO at {folder}")


def _read_config_json(folder: Path) -> dict[str, Any]:
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise DetectorUnavailableError(
            f"Folder {folder} holds no config.json: pass a folder where a Grounding DINO model and its processor "
            f"were saved with save_pretrained."
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DetectorUnavailableError(f"Cannot read {config_path}: {_first_line(error)}.") from error
    if not isinstance(config, dict):
        raise DetectorUnavailableError(f"{config_path} must hold a JSON object.")
    return config


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__).rstrip(".")


# ---------------------------------------------------------------------------------------------------------------
# the detector


class GroundingDinoDetector:
    """A loaded Grounding DINO model and its processor on one device; detect() turns a frame and a prompt into
    boxes."""

    def __init__(self, spec: DetectorSpec, model: Any, processor: Any, device: str) -> None:
        self.spec = spec
        self.device = device
        self._model = model  # transformers GroundingDinoForObjectDetection, eval mode, on device
        self._processor = processor  # transformers GroundingDinoProcessor

    @property
    def random_weights(self) -> bool:
        return self.spec.random_weights

    @property
    def image_size(self) -> dict[str, int]:
        """What the image processor resizes frames to, e.g. {"shortest_edge": 800, "longest_edge": 1333}."""
        return {key: int(value) for key, value in dict(self._processor.image_processor.size).items()}

    def describe(self) -> dict[str, Any]:
        """Facts for run.json."""
        facts: dict[str, Any] = {"detector": self.spec.name, "source": self.spec.source}
        if self.spec.hf_repo is not None:
            facts["hf_repo"] = self.spec.hf_repo
        if self.spec.path is not None:
            facts["path"] = self.spec.path
        facts.update(
            random_weights=self.random_weights,
            weights=DETECTOR_RANDOM_WEIGHTS_LABEL if self.random_weights else "trained",
            device=self.device,
            image_size=self.image_size,
        )
        return facts

    def detect(
        self,
        rgb: np.ndarray,
        text: str = DEFAULT_TEXT,
        box_threshold: float = 0.35,
        text_threshold: float = 0.25,
    ) -> list[Detection]:
        """Boxes of what the text prompt names on an HxWx3 uint8 RGB frame, best score first.

        box_threshold keeps boxes whose best token score is above it; text_threshold picks the prompt tokens that
        name a box (as in the processor's grounded post-processing)."""
        import torch

        _check_threshold("box_threshold", box_threshold)
        _check_threshold("text_threshold", text_threshold)
        _check_frame(rgb)
        prompt = normalise_text_prompt(text)
        # torch.from_numpy rejects negative strides (flipped views) and warns on read-only arrays (decoded frames)
        frame = rgb if rgb.flags.c_contiguous and rgb.flags.writeable else rgb.copy()
        inputs = self._processor(images=frame, text=prompt, input_data_format="channels_last", return_tensors="pt")
        self._check_prompt_length(inputs["input_ids"])
        inputs = inputs.to(self.device)
        height, width = rgb.shape[:2]
        with torch.inference_mode():
            outputs = self._model(**inputs)
            result = self._processor.post_process_grounded_object_detection(
                outputs,
                inputs["input_ids"],
                threshold=float(box_threshold),
                text_threshold=float(text_threshold),
                target_sizes=[(height, width)],
            )[0]
            # Same selection as the post-processing (score = best token probability > threshold), kept to name boxes.
            probs = torch.sigmoid(outputs.logits[0])
            kept_probs = probs[probs.max(dim=-1).values > box_threshold].float().cpu().numpy()
        boxes = result["boxes"].float().cpu().numpy()
        scores = result["scores"].float().cpu().numpy()
        if len(scores) == 0:  # the processor's batch_decode([]) still gives one "" label: nothing to name
            return []
        phrase_spans = self._phrase_spans(inputs["input_ids"][0].tolist())
        labels = [
            _label(decoded, token_probs, phrase_spans)
            for decoded, token_probs in zip(result["text_labels"], kept_probs, strict=True)
        ]
        return _detections(boxes, scores, labels, width, height)

    def _check_prompt_length(self, input_ids: Any) -> None:
        limit = int(self._model.config.max_text_len)
        if input_ids.shape[-1] > limit:
            raise ValueError(
                f"The text prompt is {input_ids.shape[-1]} tokens long, but {self.spec.name} reads at most "
                f"{limit}: give fewer phrases."
            )

    def _phrase_spans(self, input_ids: list[int]) -> list[tuple[str, list[int]]]:
        """Each prompt phrase as the tokenizer writes it back, with the token positions that spell it."""
        tokenizer = self._processor.tokenizer
        separator = tokenizer.convert_tokens_to_ids(".")
        specials = set(tokenizer.all_special_ids)
        spans: list[tuple[str, list[int]]] = []
        positions: list[int] = []
        for position, token_id in enumerate(input_ids):
            if token_id == separator or token_id in specials:
                if positions:
                    phrase = tokenizer.decode([input_ids[p] for p in positions]).strip()
                    spans.append((phrase, positions))
                positions = []
            else:
                positions.append(position)
        return spans


def _label(decoded: str, token_probs: np.ndarray, phrase_spans: list[tuple[str, list[int]]]) -> str:
    """The processor's label when it names exactly one prompt phrase; otherwise (nothing above text_threshold, or
    tokens of several phrases and [SEP] mixed, which random or unsure weights give) the phrase whose tokens score
    highest for this box."""
    if not phrase_spans:
        return ""
    names = [phrase for phrase, _ in phrase_spans]
    if decoded.strip() in names:
        return decoded.strip()
    strongest = max(phrase_spans, key=lambda span: float(token_probs[span[1]].max()))
    return strongest[0]


def _detections(boxes: np.ndarray, scores: np.ndarray, labels: list[str], width: int, height: int) -> list[Detection]:
    """Boxes clipped to the frame (those left with no area dropped), sorted by score, high first."""
    clipped = np.clip(boxes.reshape(-1, 4), 0.0, [width, height, width, height])
    detections = [
        Detection(box=(float(x0), float(y0), float(x1), float(y1)), score=float(score), label=label)
        for (x0, y0, x1, y1), score, label in zip(clipped, scores, labels, strict=True)
        if x1 > x0 and y1 > y0
    ]
    return sorted(detections, key=lambda detection: detection.score, reverse=True)


def _check_threshold(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number from 0 to 1, got {value!r}.")


def _check_frame(rgb: Any) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        shape = getattr(rgb, "shape", None)
        dtype = getattr(rgb, "dtype", type(rgb).__name__)
        raise ValueError(f"The frame must be an HxWx3 uint8 RGB array, got shape {shape} and type {dtype}.")
    height, width = rgb.shape[:2]
    if min(height, width) == 0 or max(height, width) > MAX_ASPECT_RATIO * min(height, width):
        raise ValueError(
            f"The frame must be non-empty and at most {MAX_ASPECT_RATIO} times longer on one side than on the other "
            f"(the image processor resizes it), got {width}x{height}."
        )


# ---------------------------------------------------------------------------------------------------------------
# loading


def load_detector(name_or_path: str, device: str | None = None) -> GroundingDinoDetector:
    """Load a detector by name or local folder on a device (default: cuda if available, else cpu), in fp32 and
    eval mode."""
    spec = get_detector_spec(name_or_path)
    device = device or default_device()
    check_device(device)
    if spec.path is not None:
        model, processor = _load_folder(spec)
    elif spec.random_weights:
        model, processor = build_test_detector(spec.seed if spec.seed is not None else TEST_MODEL_SEED)
    else:
        model, processor = _load_hub(spec)
    model.to(device)
    model.eval()
    return GroundingDinoDetector(spec=spec, model=model, processor=processor, device=device)


def _load_folder(spec: DetectorSpec) -> tuple[Any, Any]:
    import torch
    from transformers import GroundingDinoForObjectDetection, GroundingDinoProcessor

    try:
        processor = GroundingDinoProcessor.from_pretrained(spec.path)
        model = GroundingDinoForObjectDetection.from_pretrained(spec.path, dtype=torch.float32)
    except Exception as error:  # missing tokenizer/weights files, other architecture, corrupt files
        raise DetectorUnavailableError(
            f"Cannot load a Grounding DINO model and processor from {spec.path} ({_first_line(error)}): save both "
            f"there with save_pretrained."
        ) from error
    return model, processor


def _load_hub(spec: DetectorSpec) -> tuple[Any, Any]:
    """From the local Hugging Face cache first (no network call), else a download unless HF_HUB_OFFLINE is set."""
    from transformers import GroundingDinoForObjectDetection, GroundingDinoProcessor

    assert spec.hf_repo is not None
    try:
        return _from_pretrained_pair(GroundingDinoForObjectDetection, GroundingDinoProcessor, spec.hf_repo, True)
    except Exception as cache_error:  # not (fully) in the cache
        if _hub_offline():
            raise _not_cached_error(spec, "HF_HUB_OFFLINE is set") from cache_error
    try:
        return _from_pretrained_pair(GroundingDinoForObjectDetection, GroundingDinoProcessor, spec.hf_repo, False)
    except Exception as error:  # no network, gated, missing file: all mean "not available here"
        raise _not_cached_error(spec, f"the Hub could not be reached ({type(error).__name__})") from error


def _from_pretrained_pair(model_class: Any, processor_class: Any, repo: str, local_only: bool) -> tuple[Any, Any]:
    import torch

    processor = processor_class.from_pretrained(repo, local_files_only=local_only)
    # fp32 whatever the checkpoint was saved in: transformers 5 otherwise keeps a bf16/fp16 file's dtype, which
    # the processor's fp32 pixel values would not match.
    model = model_class.from_pretrained(repo, local_files_only=local_only, dtype=torch.float32)
    return model, processor


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _not_cached_error(spec: DetectorSpec, why: str) -> DetectorUnavailableError:
    return DetectorUnavailableError(
        f"Detector {spec.name} needs the Hugging Face Hub repo {spec.hf_repo}, which is not in the local cache and "
        f"cannot be downloaded because {why}; download it on a connected machine (huggingface-cli download "
        f"{spec.hf_repo}) or pass a local folder saved with save_pretrained instead."
    )


# ---------------------------------------------------------------------------------------------------------------
# the test-size model


def build_test_vocabulary() -> dict[str, int]:
    """The test tokenizer's WordPiece vocabulary, generated here: BERT's special and separator tokens at BERT's
    ids, fillers up to them, then letters, digits and their "##" continuations (so every lowercase word can be
    spelled without [UNK]) and a few hundred words of the football / person domain."""
    tokens: dict[int, str] = {index: f"[unused{index}]" for index in range(_FIRST_WORD_ID)}
    for token, index in _BERT_TOKEN_IDS.items():
        tokens[index] = token
    characters = [chr(code) for code in range(ord("a"), ord("z") + 1)] + [str(digit) for digit in range(10)]
    words = list(dict.fromkeys(word for word in _VOCAB_WORDS.split() if word.isalpha()))
    pieces = characters + [f"##{character}" for character in characters] + words
    vocabulary = {token: index for index, token in tokens.items()}
    for piece in pieces:
        vocabulary.setdefault(piece, len(vocabulary))
    return vocabulary


def build_test_detector(seed: int = TEST_MODEL_SEED) -> tuple[Any, Any]:
    """The test-size Grounding DINO (model, processor): real architecture, tiny config, random weights drawn under
    a fixed seed (same seed, same weights) without touching the caller's random state. Builds offline."""
    import torch
    from transformers import (
        BertConfig,
        BertTokenizer,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessor,
        GroundingDinoProcessor,
        SwinConfig,
    )

    vocabulary = build_test_vocabulary()
    tokenizer = BertTokenizer(vocab=vocabulary)
    processor = GroundingDinoProcessor(
        image_processor=GroundingDinoImageProcessor(size=dict(TEST_IMAGE_SIZE)), tokenizer=tokenizer
    )
    backbone = SwinConfig(
        embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2], window_size=7, out_indices=[2, 3, 4]
    )
    text = BertConfig(
        vocab_size=len(vocabulary),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=TEST_MAX_TEXT_TOKENS,
    )
    config = GroundingDinoConfig(
        backbone_config=backbone,
        text_config=text,
        d_model=32,
        encoder_layers=1,
        decoder_layers=2,  # the decoder's box heads are tied across layers: transformers needs at least two
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        num_queries=50,
        max_text_len=TEST_MAX_TEXT_TOKENS,
        **{RANDOM_WEIGHTS_CONFIG_KEY: True, "playerseg_seed": int(seed)},
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GroundingDinoForObjectDetection(config)
    model.eval()
    return model, processor
