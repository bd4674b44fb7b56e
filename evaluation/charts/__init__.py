"""Plotly figures of evaluation results: accuracy (J, F), flicker, latency, memory, and agreement between two models.

Every function reads the dataclasses of `evaluation.results` and returns a `plotly.graph_objects.Figure` with one
shared look: a white template with system fonts, titles that carry units and say whether higher or lower is better,
objects named "object 3", and a fixed colour per model (`style.model_colors`; pass the same `colors` mapping to every
chart so model A keeps its colour everywhere). Empty inputs give a figure that says "no data" instead of raising.

Owns: style (palettes, template, colours per model, the "no data" figure, shared axis and line helpers), accuracy
(J and F per frame, per-object boxes), comparison (grouped bars per model), temporal (flicker timelines), profile
(latency and memory), agreement (two models against each other).
May import: evaluation.results, plotly, numpy; nothing else of evaluation.
"""
