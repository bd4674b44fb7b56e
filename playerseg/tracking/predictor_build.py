"""Building a SAM2 video predictor from a spec: sam2's own configs through sam2's builder, the project's configs
(the nano architecture) through playerseg.tracking.project_configs; the hydra overrides both get (image size, RoPE grid,
post-processing), and a fix for a sam2 dtype bug installed on every predictor."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from playerseg.tracking.project_configs import build_video_predictor, is_project_config

if TYPE_CHECKING:
    from playerseg.tracking.registry import ModelSpec


def hydra_overrides(spec: ModelSpec, sam2_extension_available: bool) -> list[str]:
    """Overrides on the stock sam2 config: image size (and the RoPE feature grid that follows from it), plus the
    post-processing sam2's video builder applies, with hole filling only where its CUDA extension exists."""
    grid = spec.image_size // 16  # the memory attention runs on the stride-16 feature map
    return [
        f"++model.image_size={spec.image_size}",
        f"++model.memory_attention.layer.self_attention.feat_sizes=[{grid},{grid}]",
        f"++model.memory_attention.layer.cross_attention.feat_sizes=[{grid},{grid}]",
        # the same post-processing as build_sam2_video_predictor(apply_postprocessing=True)
        "++model.sam_mask_decoder_extra_args.dynamic_multimask_via_stability=true",
        "++model.sam_mask_decoder_extra_args.dynamic_multimask_stability_delta=0.05",
        "++model.sam_mask_decoder_extra_args.dynamic_multimask_stability_thresh=0.98",
        "++model.binarize_mask_from_pts_for_mem_enc=true",
        # hole filling needs sam2's optional CUDA extension; without it sam2 warns on every frame and skips it
        f"++model.fill_hole_area={8 if sam2_extension_available else 0}",
    ]


def sam2_extension_available() -> bool:
    try:
        from sam2 import _C  # noqa: F401
    except ImportError:
        return False
    return True


def build_predictor(spec: ModelSpec, device: str, warnings: list[str], compile_model: bool = False) -> Any:
    import torch
    from sam2.build_sam import build_sam2_video_predictor

    has_extension = sam2_extension_available()
    if not has_extension:
        warnings.append("sam2's CUDA extension is not built: small holes in masks are not filled (fill_hole_area=0)")
    # Same name, same weights: random-weight models are initialised under a fixed seed, leaving the caller's RNG alone.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed if spec.seed is not None else 0)
        if is_project_config(spec.config):  # load_video_model refuses --compile for these
            return build_video_predictor(spec.config, hydra_overrides(spec, has_extension))
        return build_sam2_video_predictor(
            spec.config,
            ckpt_path=None,
            device="cpu",
            hydra_overrides_extra=hydra_overrides(spec, has_extension),
            apply_postprocessing=False,
            vos_optimized=compile_model,
        )


def install_memory_dtype_fix(predictor: Any) -> None:
    """Fix sam2 issue #308: memories are stored in bfloat16, which reaches the fp32 memory attention unconverted
    whenever no fp32 object pointer is concatenated to them (e.g. tracking before an object's first prompt, or
    reverse propagation from an unprompted frame) and fails with 'mat1 and mat2 must have the same dtype'.
    Cast memory inputs to the query dtype; under autocast this is a no-op for the matmuls."""

    def cast_memory(_module: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        curr = kwargs.get("curr")
        reference = curr[0] if isinstance(curr, list) else curr
        if reference is None:
            return args, kwargs
        for key in ("memory", "memory_pos"):
            value = kwargs.get(key)
            if value is not None and value.dtype != reference.dtype:
                kwargs[key] = value.to(reference.dtype)
        return args, kwargs

    predictor.memory_attention.register_forward_pre_hook(cast_memory, with_kwargs=True)


def load_sam2_weights(predictor: Any, checkpoint: Path, spec: ModelSpec) -> None:
    """Load a sam2-format checkpoint (`{"model": state_dict}`) into a built predictor; ModelUnavailableError (one
    sentence) for an unreadable file, another format or another architecture."""
    import torch

    from playerseg.tracking.registry import ModelUnavailableError

    try:
        payload = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ModelUnavailableError(f"Cannot read checkpoint {checkpoint} for {spec.name}: {error}.") from error
    state_dict = payload.get("model") if isinstance(payload, dict) else None
    if not isinstance(state_dict, dict):
        raise ModelUnavailableError(
            f"Checkpoint {checkpoint} is not in sam2's format (a dict with a 'model' state dict)."
        )
    try:
        result = predictor.load_state_dict(state_dict, strict=False)
    except RuntimeError as error:  # tensor shapes differ: weights of another architecture
        raise ModelUnavailableError(
            f"Checkpoint {checkpoint} does not fit {spec.config}: its tensor shapes differ; is it another SAM2 size?"
        ) from error
    if result.missing_keys or result.unexpected_keys:
        raise ModelUnavailableError(
            f"Checkpoint {checkpoint} does not fit {spec.config}: {len(result.missing_keys)} missing and "
            f"{len(result.unexpected_keys)} unexpected weights (e.g. "
            f"{(result.missing_keys or result.unexpected_keys)[0]}); is it another SAM2 size?"
        )
