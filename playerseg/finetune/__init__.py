"""Finetuning SAM2 on a team's own footage: data and split, prompting, augmentations, losses, model passes, the
trainer, validation, the output folder (a model `playerseg.tracking.registry` loads by path) and its CLI
(`python -m playerseg.finetune`).

May import: playerseg.errors, playerseg.io, playerseg.tracking, playerseg.runs, evaluation; never compare, ui.
"""
