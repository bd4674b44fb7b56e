"""The zero-shot auto-labeler: a text-prompted detector finds every person, a filter keeps the players, SAM2 tracks
them with stable ids.

Owns: detector (Grounding DINO by name), pitch (the playing surface), jerseys (team and officials' colours),
player_filter (the rules that keep players), association (stable track ids), detections (detections files and the
auto-labelling report), names (the auto-labelers' model names), labeler (the pipeline), sam3_labeler (SAM 3's own
concept detection and tracking with the same filter and ids: autolabel:sam3).
May import: playerseg.errors, playerseg.io, playerseg.tracking, playerseg.runs, evaluation; never compare, ui.
"""
