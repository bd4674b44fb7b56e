"""The decision at dataset scale: every (model, sequence) run of `python -m playerseg evaluate` scored the way
`python -m evaluation score` scores one run folder, pooled into a leaderboard (one row per model x sequence), a table
per model with bootstrap intervals, a verdict and a stakeholder report.

Owns: rows (PairScore, PairFailure: one scored or failed pair), manifest (EvaluateManifest: evaluate.json, what was
asked and the models' facts), scoring (a run folder against its ground truth -> PairScore), stats (bootstrap
intervals), table (Leaderboard, ModelSummary; leaderboard.csv, models.csv, leaderboard.json), collect (an OUT folder
read back from its run folders), verdict (the sentences a stakeholder reads), report (report.html), figures (its
charts), stills (the frames where two models differ most), cli (`python -m evaluation leaderboard OUT`).
May import: evaluation.results, evaluation.accuracy, evaluation.temporal, evaluation.identity, evaluation.datasets,
evaluation.charts, evaluation.report, numpy, pandas, plotly; never playerseg or gradio.
"""
