"""Finetuning SAM2 on a team's own footage: data and split (`data`), prompting, augmentations (`augment`), losses,
model passes (`model`), run settings (`settings`), training batches (`batches`), the trainer, validation, the output
folder (`outputs`: a model `playerseg.tracking.registry` loads by path), the job (`run`) and its CLI
(`python -m playerseg.finetune`).

May import: playerseg.errors, playerseg.io, playerseg.tracking, playerseg.runs, playerseg.synthetic, evaluation; never
compare, ui.
"""
