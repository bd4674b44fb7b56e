"""Procedural football-pitch clips with exact ground truth (DAVIS layout), and `python -m playerseg.synthetic`.

The public entry point is `playerseg.synthetic.dataset.generate_dataset` (its docstring says what a frame shows and
what is exact). Inside: layout (screen bands, depth rule), paths (camera pan, walks, the crossing), figures (the
people), backdrop (crowd, LED board, pitch), painting (the integer code layer), render (pictures, blur, noise),
truth (labels, boxes, prompt points), dataset (the files on disk) and __main__ (the command line).

May import: playerseg.errors and playerseg.io; nothing that runs a model.
"""
