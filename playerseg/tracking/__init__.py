"""SAM2 by name and SAM2 video tracking: the model registry, the tracker, motion-gated frame skipping.

Owns: registry (hub / local / test-size / random-weights / trained-here models, checkpoints, loading),
predictor_build (a predictor from a spec), project_configs (the yaml architectures in configs/, the nano one),
nano_store (the nano models' weights in nano_weights/ and their sha256 check), tracker (the public
Sam2VideoTracker: prompts, track(), streaming step()), its internals frames (the frame feed sam2 reads, its
inference_state), memory (memory window, reading and forgetting per-object memories), batching (objects sharing
memory frames run as one batch), step (one frame through sam2 into a FrameResult), gating (a track() pass with frame
skipping), and frameskip (MotionGate, SkipSettings).
May import: playerseg.errors, playerseg.io, evaluation; never runs, autolabel, compare, ui.
"""
