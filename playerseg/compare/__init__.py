"""Two models on one clip with one set of prompts: run folders, rendered videos, metrics and a report.

Owns: the comparison: selection (Selection), pool (ModelPool), outcome (ModelOutcome, Comparison, the JSON summary),
progress (stages), run (compare_models), failures (a model's one-sentence error), render (run folders through
RunFolderWriter, side-by-side and disagreement videos), scoring (accuracy, flicker, agreement, report); ground_truth
(uploads checked before unpacking) and cli (the `python -m playerseg compare` command).
May import: every lower subpackage (errors, io, tracking, runs, autolabel) and evaluation; never ui.
"""
