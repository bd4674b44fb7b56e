"""Clips, masks, prompts and drawing: the data a run reads and writes, independent of any model.

Owns: video (probe, stream, random access, H.264 writing), masks (palette PNGs, COCO RLE via evaluation's codec,
MaskTrack), prompts (clicks and boxes, their JSON file and its rules), overlay (drawing masks, prompts, side by side).
May import: playerseg.errors and the evaluation package; nothing else of playerseg.
"""
