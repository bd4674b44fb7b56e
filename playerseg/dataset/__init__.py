"""A dataset made here: a run folder (or the app's fixed masks) turned into one sequence of a DAVIS-layout dataset
folder (DESIGN.md section 2: JPEGImages/<seq>, Annotations/<seq>, prompts/<seq>.json, coco/<seq>.json, meta.json).

Owns: sequence_writer (`write_sequence`, the one writer of a sequence, atomic, and `safe_sequence_name`), export
(`export_run`: a run folder and its clip to a sequence), listing (`list_sequences`: the sequences as `SequenceRow`s
with their counts; `zip_dataset`: the folder as one zip, under the dataset's lock), cli (`python -m playerseg
export-sequence`).
May import: playerseg.errors, playerseg.io, playerseg.runs, evaluation; never tracking, autolabel, compare, ui.
"""
