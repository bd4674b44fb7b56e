"""SAM 3's memory as the clip grows: ours (streaming sessions) vs stock transformers, peak RSS at two clip lengths.

    .venv/bin/python benchmarks/sam3_memory.py [--short 60] [--long 240] [--objects 4]

Both SAM 3 pipelines, each run in a fresh interpreter so each peak RSS is that run's own, on one synthetic 640x360
clip with 8 players:
- the click tracker (`test-sam3`, transformers' Sam3TrackerVideoModel): ours (`Sam3VideoTracker`, frames read one at a
  time, what the model no longer reads dropped) vs the documented stock loop (`init_video_session` on the whole clip,
  clicks on frame 0, `propagate_in_video_iterator`, each frame's masks post-processed to the clip's size);
- the concept model (`autolabel:test-sam3`, Sam3VideoModel, text "person"): ours (`Sam3VideoStream`) vs the stock loop
  (`init_video_session`, `add_text_prompt`, `propagate_in_video_iterator` + `postprocess_outputs`).
Prints peak RSS long / short for each (flat is 1.0), and stock / ours at the long clip. Test-size models with random
weights: the growth the figures show is the sessions' per-frame state at the clip's size, not the weights'.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from playerseg.synthetic.dataset import generate_dataset

PLAYERS = 8

# One measurement in a fresh interpreter: prints a JSON line {"seconds", "peak_rss_mb", "per_frame_ms"}.
CHILD = r"""
import json, resource, sys, time
import numpy as np, torch
from playerseg.io.prompts import PromptSet
from playerseg.io.video import FrameStore
pipeline, kind, data, frames, objects = sys.argv[1:6]
frames, objects = int(frames), int(objects)
store = FrameStore(f"{data}/videos/seq000.mp4", stop=frames)
prompts = [p for p in PromptSet.load(f"{data}/prompts/seq000.json").merged().prompts if p.frame == 0][:objects]
latencies, last = [], None
def tick():
    global last
    now = time.perf_counter()
    if last is not None:
        latencies.append((now - last) * 1000)
    last = now
started = time.perf_counter()
if pipeline == "tracker":
    from playerseg.tracking.sam3_model import load_sam3_model, test_sam3_spec
    model = load_sam3_model(test_sam3_spec(), "cpu")
    if kind == "ours":
        from playerseg.tracking.sam3_tracker import Sam3VideoTracker
        with Sam3VideoTracker(model, store) as tracker:
            tracker.add_prompts(prompts)
            for _ in tracker.track():
                tick()
    else:
        stock, processor = model.predictor.model, model.predictor.processor
        session = processor.init_video_session(video=[store[i] for i in range(len(store))], inference_device="cpu")
        points = [[[[p.points[0].x, p.points[0].y]] for p in prompts]]
        labels = [[[1] for _ in prompts]]
        ids = [p.object_id for p in prompts]
        processor.add_inputs_to_inference_session(session, frame_idx=0, obj_ids=ids, input_points=points,
                                                  input_labels=labels)
        with torch.inference_mode():
            stock(inference_session=session, frame_idx=0)
            for out in stock.propagate_in_video_iterator(session, start_frame_idx=0):
                processor.post_process_masks([out.pred_masks], [(store.height, store.width)])
                tick()
else:
    from playerseg.tracking.sam3_video import Sam3VideoStream, load_sam3_video_model
    model = load_sam3_video_model("test-sam3", "cpu")
    if kind == "ours":
        with Sam3VideoStream(model, store, "person") as stream:
            for _ in stream.run():
                tick()
    else:
        sam3, processor = model.predictor.model, model.predictor.processor
        session = processor.init_video_session(video=[store[i] for i in range(len(store))], inference_device="cpu")
        processor.add_text_prompt(session, "person")
        with torch.inference_mode():
            for out in sam3.propagate_in_video_iterator(inference_session=session):
                processor.postprocess_outputs(session, out)
                tick()
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak, "per_frame_ms": float(np.median(latencies))}))
"""


def measure(pipeline: str, kind: str, data: Path, frames: int, objects: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, pipeline, kind, str(data), str(frames), str(objects)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"{pipeline} {kind} at {frames} frames failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=60, help="frames of the short clip")
    parser.add_argument("--long", type=int, default=240, help="frames of the long clip")
    parser.add_argument("--objects", type=int, default=4, help="players clicked for the tracker")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        generate_dataset(data, frames=args.long, players=PLAYERS, seed=7)
        run = {}
        for pipeline in ("tracker", "concept"):
            for kind in ("ours", "stock"):
                for frames in (args.short, args.long):
                    run[(pipeline, kind, frames)] = figures = measure(pipeline, kind, data, frames, args.objects)
                    print(f"  {pipeline} {kind} {frames} frames: {json.dumps(figures)}", flush=True)
    print(f"test-sam3 on cpu, synthetic 640x360 clip, random weights; tracker: {args.objects} clicked players")
    for pipeline in ("tracker", "concept"):
        for kind in ("ours", "stock"):
            short, long = run[(pipeline, kind, args.short)], run[(pipeline, kind, args.long)]
            print(
                f"{pipeline:8s} {kind:6s} peak RSS {args.long} frames {long['peak_rss_mb']:.0f} MB / {args.short} "
                f"frames {short['peak_rss_mb']:.0f} MB = {long['peak_rss_mb'] / short['peak_rss_mb']:.3f}; "
                f"p50 {long['per_frame_ms']:.0f} ms/frame"
            )
        ours, stock = run[(pipeline, "ours", args.long)], run[(pipeline, "stock", args.long)]
        print(
            f"{pipeline:8s} stock / ours at {args.long} frames: peak RSS {stock['peak_rss_mb']:.0f} / "
            f"{ours['peak_rss_mb']:.0f} MB = {stock['peak_rss_mb'] / ours['peak_rss_mb']:.2f}; seconds "
            f"{stock['seconds']:.1f} / {ours['seconds']:.1f} = {stock['seconds'] / ours['seconds']:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
