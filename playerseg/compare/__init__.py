"""Two models on one clip with one set of prompts: run folders, rendered videos, metrics and a report.

Owns: the comparison (selection, model pool, outcomes, orchestration, rendering, scoring), ground-truth uploads
(checked before unpacking) and the `python -m playerseg compare` command.
May import: every lower subpackage (errors, io, tracking, runs, autolabel) and evaluation; never ui.
"""
