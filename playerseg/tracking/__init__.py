"""SAM2 by name and SAM2 video tracking: the model registry, the tracker, motion-gated frame skipping.

Owns: registry (hub / local / test-size / random-weights models, checkpoints, loading), tracker (the public
Sam2VideoTracker: prompts, track(), streaming step()), its internals frames (the frame feed sam2 reads, its
inference_state), memory (memory window, reading and forgetting per-object memories), batching (objects sharing
memory frames run as one batch), step (one frame through sam2 into a FrameResult), gating (a track() pass with frame
skipping), and frameskip (MotionGate, SkipSettings).
May import: playerseg.errors, playerseg.io, evaluation; never runs, autolabel, compare, ui.
"""
