"""A run: a clip and prompts turned into masks per object per frame with per-frame costs, and its run folder.

Owns: pipeline (RunResult, FrameStats, the frame selection, prompted tracking), selection_prompts (SelectionPrompts:
prompts checked and mapped once onto the processed frames, the only prompt type the run layers take), facts (typed
run.json: ModelFacts, SelectionFacts, Timings, RunFacts...), runfolder (RunFolderWriter, the one producer of the run
folder: masks/, overlay.mp4, frames.csv, run.json), autolabel_report (what an auto-labelling run reports:
detections.json and run.json's "autolabel" facts).
May import: playerseg.errors, playerseg.io, playerseg.tracking, evaluation; never autolabel, compare, ui.
"""
