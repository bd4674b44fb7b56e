"""PlayerSeg's runtime: SAM2 player segmentation on sports clips, the auto-labeler, model comparison, finetuning.

Subpackages, bottom to top (imports flow downwards only; see README "Layout"): errors (the exception base), io,
tracking, runs, autolabel, compare, synthetic, finetune, ui. Top-level modules: bench (costs per stage),
progress_bars (CLI progress), __main__ (the `python -m playerseg` command line).
May import: the evaluation package (never the reverse).
"""
