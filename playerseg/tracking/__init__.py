"""SAM2 by name and SAM2 video tracking: the model registry, the tracker, motion-gated frame skipping.

Owns: registry (hub / local / test-size / random-weights models, checkpoints, loading), tracker (Sam2VideoTracker and
its memory and batching internals), frameskip (MotionGate, SkipSettings).
May import: playerseg.errors, playerseg.io, evaluation; never runs, autolabel, compare, ui.
"""
