"""`python -m playerseg evaluate`: several models over a whole DAVIS-layout dataset, each (model, sequence) pair as a
run folder scored against the ground truth, resumable, on this machine or on a Ray cluster; the leaderboard and
report come from `evaluation.leaderboard`.

Owns: job (EvaluateJob, the dataset's sequences, the manifest), prompts (prompts/<seq>.json, or clicks / boxes derived
from the ground truth), pair (one pair run, written and scored, or its one-sentence failure), local (the local
engine), ray_engine (the Ray engine: pairs as tasks), ray_cluster (reaching Ray: connect or start, thread
pinning, one-sentence failures), cli (the subcommand).
May import: playerseg.errors, io, tracking, runs, autolabel, compare (the model pool and failure sentences),
synthetic (the deepest point of a mask), progress_bars; evaluation.
"""
