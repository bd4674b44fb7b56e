"""SAM 3 tracker models: their specs, configs and loading (transformers' `Sam3TrackerVideoModel`).

This module owns what a `sam3`-family model is before tracking starts: the specs (`hub_sam3_spec`: SAM 3's tracker
with its real weights from the gated Hugging Face repo facebook/sam3; `test_sam3_spec`: the real Sam3TrackerVideo
architecture at toy sizes with random weights from a fixed seed, for tests; `random_sam3_spec`: the real full-size
architecture with random weights, for measuring costs offline), the transformers config of each random model
(`sam3_config`), and `load_sam3_model`, which builds or loads the model with the processor that prepares its frames
and prompts, as a `LoadedModel` whose predictor is a `Sam3Predictor`. Tracking with it is sam3_tracker's job.

Heavy imports (torch, transformers) happen inside the functions that need them; the registry imports this module
lazily, so importing registry names here makes no cycle.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

SAM3_HUB_REPO = "facebook/sam3"
SAM3_FAMILY = "sam3"
SAM3_IMAGE_SIZE = 1008  # SAM 3's input size (72 x 72 patches of 14 px)
TEST_SAM3_IMAGE_SIZE = 112  # the test model's input size: 8 x 8 patches of 14 px
SAM3_PATCH_SIZE = 14
TEST_SAM3_CONFIG = "sam3-tracker-video-test"  # ModelSpec.config: which transformers config the model is built from
FULL_SAM3_CONFIG = "sam3-tracker-video"
# SAM 3's frame normalisation (transformers' conversion script builds the facebook/sam3 video processor so)
SAM3_IMAGE_MEAN = (0.5, 0.5, 0.5)
SAM3_IMAGE_STD = (0.5, 0.5, 0.5)
# the hub repo's weights: one safetensors file, or the index of its shards
_HUB_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


@dataclass
class Sam3Predictor:
    """What a SAM 3 tracker needs: the transformers model and the processor that prepares frames and prompts."""

    model: Any  # transformers.Sam3TrackerVideoModel (untyped: transformers imports lazily)
    processor: Any  # transformers.Sam3TrackerVideoProcessor

    @property
    def image_size(self) -> int:
        return int(self.processor.target_size)


def test_sam3_spec() -> ModelSpec:
    """The real Sam3TrackerVideo architecture at toy sizes (see `sam3_config`), random weights from a fixed seed:
    a 10-frame 2-object track takes about a second on CPU. Its masks mean nothing."""
    return ModelSpec(
        name="test-sam3",
        config=TEST_SAM3_CONFIG,
        image_size=TEST_SAM3_IMAGE_SIZE,
        source=RANDOM_WEIGHTS,
        seed=TEST_MODEL_SEED,
        description=f"SAM 3 tracker architecture at toy sizes and {TEST_SAM3_IMAGE_SIZE} px, {RANDOM_WEIGHTS_LABEL}",
        family=SAM3_FAMILY,
    )


def hub_sam3_spec() -> ModelSpec:
    """SAM 3's click/box-prompted video tracker with its real weights from the gated Hub repo facebook/sam3."""
    return ModelSpec(
        name="sam3",
        config=FULL_SAM3_CONFIG,
        image_size=SAM3_IMAGE_SIZE,
        source="hub",
        hf_repo=SAM3_HUB_REPO,
        description=f"SAM 3 tracker (zero-shot), weights from the gated Hugging Face Hub repo {SAM3_HUB_REPO}",
        family=SAM3_FAMILY,
    )


def random_sam3_spec() -> ModelSpec:
    """SAM 3's tracker at its real size and 1008 px with random weights: what it costs (time, memory), offline."""
    return ModelSpec(
        name="random-sam3",
        config=FULL_SAM3_CONFIG,
        image_size=SAM3_IMAGE_SIZE,
        source=RANDOM_WEIGHTS,
        seed=TEST_MODEL_SEED,
        description=f"SAM 3 tracker architecture at {SAM3_IMAGE_SIZE} px for benchmarks, {RANDOM_WEIGHTS_LABEL}",
        family=SAM3_FAMILY,
    )


def sam3_specs() -> list[ModelSpec]:
    """Every built-in sam3-family spec, for the registry."""
    return [hub_sam3_spec(), test_sam3_spec(), random_sam3_spec()]


def sam3_config(spec: ModelSpec) -> Any:
    """The transformers `Sam3TrackerVideoConfig` a random-weight spec is built from: transformers' defaults (SAM 3's
    real architecture) for the full-size config, or the toy sizes below for the test config. Every toy value lives
    here. Toy sizes keep the real code paths: the memory encoder's 64 output channels are fixed by the memory
    attention (its image cross-attention takes 64-channel keys), and the tracker's hidden size must stay above them
    (transformers splits object pointers into memory-sized tokens; equal sizes break that path). The larger
    initializer range makes the random logits O(1) instead of O(1e-3), so masks and scores follow the prompts."""
    from transformers import Sam3TrackerVideoConfig

    if spec.config == FULL_SAM3_CONFIG:
        return Sam3TrackerVideoConfig()
    if spec.config != TEST_SAM3_CONFIG:
        raise ModelUnavailableError(f"Model {spec.name} names an unknown SAM 3 config '{spec.config}'.")
    from transformers.models.sam3.configuration_sam3 import Sam3VisionConfig, Sam3ViTConfig

    size, hidden, init = spec.image_size, 128, 0.1
    backbone = Sam3ViTConfig(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=size,
        patch_size=SAM3_PATCH_SIZE,
        window_size=4,
        global_attn_indexes=[1],
        pretrain_image_size=size,
        initializer_range=init,
    )
    return Sam3TrackerVideoConfig(
        vision_config=Sam3VisionConfig(backbone_config=backbone, fpn_hidden_size=hidden, initializer_range=init),
        prompt_encoder_config={"hidden_size": hidden, "image_size": size},
        mask_decoder_config={"hidden_size": hidden, "mlp_dim": 2 * hidden, "iou_head_hidden_dim": hidden},
        image_size=size,
        initializer_range=init,
        memory_attention_hidden_size=hidden,
        memory_attention_num_layers=1,
        memory_attention_feed_forward_hidden_size=2 * hidden,
        memory_encoder_hidden_size=hidden,
        memory_encoder_output_channels=64,
        mask_downsampler_embed_dim=hidden,
        memory_fuser_num_layers=1,
        memory_fuser_embed_dim=hidden,
        memory_fuser_intermediate_dim=2 * hidden,
    )


def sam3_processor(image_size: int) -> Any:
    """The processor for a random-weight model, built like facebook/sam3's (transformers' conversion script): the
    SAM 3 image processor for prompts and masks, frames resized to the model's square input and normalised with
    mean and std 0.5."""
    from transformers import Sam2VideoVideoProcessor, Sam3ImageProcessor, Sam3TrackerVideoProcessor

    size = {"height": image_size, "width": image_size}
    video_processor = Sam2VideoVideoProcessor(
        image_mean=list(SAM3_IMAGE_MEAN), image_std=list(SAM3_IMAGE_STD), size=size
    )
    return Sam3TrackerVideoProcessor(image_processor=Sam3ImageProcessor(size=size), video_processor=video_processor)


def build_random_sam3(spec: ModelSpec) -> Any:
    """The model of a random-weight spec; the same seed gives the same weights, and the caller's torch RNG state is
    left as it was."""
    import torch
    from transformers import Sam3TrackerVideoModel

    config = sam3_config(spec)
    seed = TEST_MODEL_SEED if spec.seed is None else spec.seed
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Sam3TrackerVideoModel(config)


def load_sam3_model(spec: ModelSpec, device: str) -> LoadedModel:
    """Build (random weights) or load (hub weights) a SAM 3 tracker on `device`, with its processor."""
    check_device(device)
    warnings: list[str] = []
    if spec.source == RANDOM_WEIGHTS:
        model = build_random_sam3(spec)
        processor = sam3_processor(spec.image_size)
        checkpoint = sha = RANDOM_WEIGHTS
        warnings.append(f"{spec.name} has {RANDOM_WEIGHTS_LABEL}")
    elif spec.source == "hub":
        model, processor, weights = _load_from_hub(spec)
        checkpoint = str(weights.parent) if weights is not None else str(spec.hf_repo)
        sha = file_sha256(weights) if weights is not None else "unknown"
    else:
        raise ModelUnavailableError(f"Model {spec.name} has source '{spec.source}', which SAM 3 models do not offer.")
    model.to(device)
    model.eval()
    return LoadedModel(
        spec=spec,
        predictor=Sam3Predictor(model=model, processor=processor),
        device=device,
        checkpoint=checkpoint,
        checkpoint_sha256=sha,
        warnings=warnings,
    )


def _load_from_hub(spec: ModelSpec) -> tuple[Any, Any, Path | None]:
    """The model and processor from the Hub repo (or its local cache), and the weights file in the snapshot."""
    import torch
    from transformers import Sam3TrackerVideoModel, Sam3TrackerVideoProcessor

    repo = str(spec.hf_repo)
    offline = _hub_offline()
    try:  # float32 like the session the tracker builds (and transformers' own integration tests)
        model = Sam3TrackerVideoModel.from_pretrained(repo, local_files_only=offline, dtype=torch.float32)
        processor = Sam3TrackerVideoProcessor.from_pretrained(repo, local_files_only=offline)
    except Exception as error:  # offline, no network, gated repo without a token: all mean "not available here"
        raise ModelUnavailableError(hub_unavailable_message(spec, error)) from error
    return model, processor, _cached_weights_file(repo)


def hub_unavailable_message(spec: ModelSpec, error: BaseException) -> str:
    """One sentence: which repo is missing, why it could not be fetched, and what to do (the repo is gated)."""
    repo = str(spec.hf_repo)
    why = (
        "HF_HUB_OFFLINE is set"
        if _hub_offline()
        else f"the Hub refused or could not be reached ({type(error).__name__})"
    )
    return (
        f"Model {spec.name} needs the weights of the Hugging Face Hub repo {repo}, which are not in the local cache "
        f"and cannot be downloaded because {why}; the repo is gated, so accept its licence on "
        f"https://huggingface.co/{repo} while logged in and give this machine your token (set HF_TOKEN or run "
        f"`huggingface-cli login`){' with HF_HUB_OFFLINE unset' if _hub_offline() else ''}."
    )


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def _cached_weights_file(repo: str) -> Path | None:
    """The weights file of the repo's snapshot in the local Hugging Face cache (None when not found there)."""
    from huggingface_hub import try_to_load_from_cache

    for file_name in _HUB_WEIGHT_FILES:
        found = try_to_load_from_cache(repo_id=repo, filename=file_name)
        if isinstance(found, str):
            return Path(found)
    return None
