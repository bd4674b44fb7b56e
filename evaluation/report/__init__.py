"""The HTML report of evaluation results: one self-contained report.html (plotly.js inlined, opens offline) and the
CSV tables beside it.

Owns: page (`write_report`: the page, its header, notes and navigation), sections (one per kind of result: tables
and charts), markup (cells, tables, sections, embedded figures), tables (the CSV files).
May import: evaluation.results, evaluation.charts, plotly, pandas; nothing else of evaluation.
"""
