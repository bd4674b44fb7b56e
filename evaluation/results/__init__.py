"""Result dataclasses. Metrics return these; charts, reports and the CLI read them (never nested dicts).

Arrays are indexed [frame row, object column]: `frames[i]` is the clip frame number of row i and `object_ids[k]` the
object of column k. Every result converts to a long pandas table with `to_pandas()` and to plain JSON-able values
with `summary()`.

Owns: numbers (JSON-friendly floats), accuracy (SummaryStats, ObjectAccuracy, AccuracyResult, DatasetAccuracy),
temporal (ObjectStability, TemporalResult), profile (LatencySummary, ProfileResult), agreement (AgreementResult),
by_model (results pooled per model name, as charts and the report compare models).
May import: numpy (pandas only inside `to_pandas`); nothing else of evaluation.
"""
