"""The review of a run's masks before they go into a dataset: a mask preview per click (`preview`: one SAM2
image-decoder call on a frame whose image embedding is kept, so each click shows its effect before re-tracking), one
object tracked again from its clicks and fixed masks (`retrack`), the frames ranked by how much two models disagree
(`ranking`), and the review itself on its own copy of a run folder (`review`: clicks, fixes, names, deletions).

May import: playerseg.errors, playerseg.io, playerseg.tracking, playerseg.runs, playerseg.dataset, evaluation;
never autolabel, compare, ui.
"""
