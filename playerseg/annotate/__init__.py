"""The review of a run's masks before they go into a dataset: a mask preview per click (`preview`: one SAM2
image-decoder call on a frame whose image embedding is kept, so each click shows its effect before re-tracking).

May import: playerseg.errors, playerseg.io, playerseg.tracking, playerseg.runs, playerseg.dataset, evaluation;
never autolabel, compare, ui.
"""
