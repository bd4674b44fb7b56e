"""Procedural football-pitch clips with exact ground truth (DAVIS layout), and `python -m playerseg.synthetic`.

May import: playerseg.errors and playerseg.io; nothing that runs a model.
"""
