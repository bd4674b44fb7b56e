"""Video models by name and tracking with them: the model registry, the SAM2 tracker, motion-gated frame skipping,
motion-aware memory, and the other families' trackers (the U-Net baseline, SAM 3).

Owns: registry (hub / local / test-size / random-weights / trained-here models, checkpoints, loading),
predictor_build (a predictor from a spec), project_configs (the yaml architectures in configs/, the nano one),
nano_store (the nano models' weights in nano_weights/ and their sha256 check), tracker (the public
Sam2VideoTracker: prompts, track(), streaming step()), its internals frames (the frame feed sam2 reads, its
inference_state), memory (memory window, reading and forgetting per-object memories), batching (objects sharing
memory frames run as one batch), step (one frame through sam2 into a FrameResult), gating (a track() pass with frame
skipping), frameskip (MotionGate, SkipSettings), motion and motion_memory (`X+motion`), trackers (the tracker for
any family), unet_net / unet_regions / unet_tracker / unet_models (the U-Net baseline), sam3_model / sam3_tracker
(SAM 3's click-prompted tracker) and sam3_video (SAM 3's text-prompted concept model, streamed).
May import: playerseg.errors, playerseg.io, evaluation; never runs, autolabel, compare, ui.
"""

# The registry first, whichever tracking module is imported first: it registers SAM 3's specs from sam3_model, which
# imports the registry's names -- the other order would meet a half-built sam3_model.
from playerseg.tracking import registry as _registry  # noqa: E402, F401
