"""Procedural clips with exact ground truth (DAVIS layout): football-pitch clips, and generic ones (any background,
people and other shapes) for pretraining; `python -m playerseg.synthetic [--mode pitch|generic]`.

The public entry point is `playerseg.synthetic.dataset.generate_dataset` (its docstring says what a frame shows and
what is exact). Inside: layout (screen bands, depth rule), paths (camera pan, walks, the crossing), figures (the
people), backdrop (crowd, LED board, pitch), painting (the integer code layer), render (pictures, blur, noise),
truth (labels, boxes, prompt points), dataset (the files on disk) and __main__ (the command line). The generic mode:
generic (a clip put together and rendered), generic_scene (backgrounds, distractors, the view), generic_motion
(camera and object paths), generic_objects (people and shapes), shapes (shape painting).

May import: playerseg.errors and playerseg.io; nothing that runs a model.
"""
