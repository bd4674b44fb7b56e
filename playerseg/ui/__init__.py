"""The Gradio app: one module per tab, the typed Session, settings, per-run limits, what a public server reads and
keeps, the `/compare` API, evaluation's charts fitted to the page (charts) and the Blocks. No model code here: the
comparison itself is playerseg.compare.

May import: every other playerseg subpackage, evaluation and gradio (the only package that imports gradio).
"""
