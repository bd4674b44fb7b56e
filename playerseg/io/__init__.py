"""Clips, masks, prompts and drawing: the data a run reads and writes, independent of any model.

Owns: video (probe, stream, random access, H.264 writing), built on video_info (VideoInfo, Frame, VideoError),
video_file (video files, read through evaluation's PyAV layer) and frame_folder (image-folder clips); masks (palette
PNGs, COCO RLE through evaluation's codec, MaskTrack); prompts (clicks and boxes, their JSON file and its rules);
overlay (drawing masks, prompts, side by side, disagreement).
May import: playerseg.errors and the evaluation package; nothing else of playerseg.
"""
