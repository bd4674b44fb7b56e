"""Produce the golden outputs: every public output of PlayerSeg on one small synthetic clip, into one folder.

    python tests/golden/produce.py OUT [--tree TREE]

Only the stable public surfaces are used, so the same script runs against any version of the code: the CLIs as
subprocesses (`python -m playerseg.synthetic | playerseg segment | autolabel | compare`, `python -m evaluation score |
temporal | compare`) and the app's public `/compare` endpoint over HTTP (`app.py` started the way the e2e tests start
it, called with gradio_client). Nothing of `playerseg` or `evaluation` is imported here: their module paths move.
`TREE` (default: the checkout holding this script) is the code under test: the subprocesses run in it with it first
on PYTHONPATH, and the app is its `app.py`.

OUT gets: data/ (the synthetic clip), gt.zip, detections-import.json, segment/ and segment-skip/ (run
folders), autolabel/, compare/ (the CLI comparison on every 2nd frame: A/, B/, videos, report, summary.json),
score/, temporal/, evaluation-compare/ (evaluation reports), app/ (what `/compare` returned: summary.json and the two
videos) and logs/ (each CLI's stdout and stderr, with OUT and TREE written as <OUT> and <TREE>).
`tests/golden/manifest.py` turns OUT into the digests compared.

Determinism: torch/OpenMP/MKL on one thread, the whole process tree pinned to one CPU (libx264 picks its thread
count, and with it its output bytes, from the CPUs it may use), PYTHONHASHSEED fixed, the Hugging Face Hub offline
with an empty HF_HOME of its own (the test models are random weights from a fixed seed, built locally).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

SEQ = "seq000"
SMALL, LARGE = "test-sam2.1-tiny-128", "test-sam2.1-tiny-256"
DETECTOR = "test-gdino-tiny"
AUTOLABELER = f"autolabel:{DETECTOR}+{SMALL}"
DATASET = ["--sequences", "1", "--frames", "16", "--players", "3", "--width", "320", "--height", "180", "--seed", "11"]
# cache locations that would take precedence over HF_HOME: left out of every subprocess's environment
HUB_CACHE_VARIABLES = ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_XET_CACHE", "HF_ASSETS_CACHE")
IMPORTED_DETECTION_EVERY = 5
FIXED_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


class Producer:
    """Runs the CLIs of one tree into one output folder, logging each command's output under OUT/logs."""

    def __init__(self, tree: Path, out: Path, hf_home: Path) -> None:
        self.tree = tree
        self.out = out
        inherited = {key: value for key, value in os.environ.items() if key not in HUB_CACHE_VARIABLES}
        python_path = os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH", "")]))
        self.env = {
            **inherited,
            "PYTHONPATH": python_path,
            "PYTHONHASHSEED": "0",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HF_HOME": str(hf_home),
        }
        self.failures: list[str] = []
        (out / "logs").mkdir(parents=True, exist_ok=True)

    def run(self, step: str, *args: str | Path) -> None:
        """`python -m ARGS` in the tree; its stdout/stderr saved as logs/STEP.stdout|stderr. A failure is recorded
        and the next steps still run (those that need its output fail too): the manifest shows all that changed."""
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", *map(str, args)],
            capture_output=True,
            text=True,
            cwd=self.tree,
            env=self.env,
            timeout=600,
        )
        for stream, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            text = text.replace(str(self.out), "<OUT>").replace(str(self.tree), "<TREE>")
            (self.out / "logs" / f"{step}.{stream}").write_text(text)
        status = "ok" if proc.returncode == 0 else f"FAILED with exit status {proc.returncode}"
        print(f"{step}: {status}, {time.monotonic() - started:.1f} s", file=sys.stderr)
        if proc.returncode != 0:
            self.failures.append(f"{step} failed ({proc.returncode}):\n{proc.stderr[-1500:]}")


def write_ground_truth_zip(annotations: Path, path: Path) -> None:
    """The ground-truth upload (Annotations/seq000/*.png) with fixed timestamps, so the zip is the same bytes."""
    with zipfile.ZipFile(path, "w") as archive:
        for png in sorted(annotations.glob("*.png")):
            info = zipfile.ZipInfo(f"Annotations/{SEQ}/{png.name}", date_time=FIXED_ZIP_TIME)
            archive.writestr(info, png.read_bytes())


def write_imported_detections(meta: Path, path: Path) -> None:
    """Every figure of the synthetic meta (players, referee, staff, crowd) as detections on frames 0, 5, 10, 15: the
    auto-labeler's import format, so its filter, association and tracking run on boxes that mean something (the
    random-weight test detector's boxes are all rejected; the app call below runs that path)."""
    frames = json.loads(meta.read_text())["sequences"][SEQ]["frames"]
    detections = {
        str(frame["frame"]): [{"box": figure["box"], "score": 0.9, "label": "person"} for figure in frame["figures"]]
        for frame in frames
        if frame["frame"] % IMPORTED_DETECTION_EVERY == 0
    }
    path.write_text(json.dumps({"frames": detections}, indent=1) + "\n")


def produce_cli_outputs(producer: Producer) -> None:
    out = producer.out
    data, gt_zip = out / "data", out / "gt.zip"
    video, prompts = data / "videos" / f"{SEQ}.mp4", data / "prompts" / f"{SEQ}.json"
    producer.run("synthetic", "playerseg.synthetic", data, *DATASET)
    write_ground_truth_zip(data / "Annotations" / SEQ, gt_zip)
    common = ["--device", "cpu", "--quiet"]
    producer.run(
        "segment",
        "playerseg",
        "segment",
        video,
        "--model",
        SMALL,
        "--prompts",
        prompts,
        "--out",
        out / "segment",
        *common,
    )
    producer.run(
        "segment-skip",
        "playerseg",
        "segment",
        video,
        "--model",
        SMALL,
        "--prompts",
        prompts,
        "--out",
        out / "segment-skip",
        "--skip-motion",
        "3",
        "--skip-max",
        "2",
        *common,
    )
    write_imported_detections(data / "meta.json", out / "detections-import.json")
    producer.run(
        "autolabel",
        "playerseg",
        "autolabel",
        video,
        "--out",
        out / "autolabel",
        "--detections",
        out / "detections-import.json",
        "--tracker",
        SMALL,
        *common,
    )
    producer.run(
        "compare",
        "playerseg",
        "compare",
        video,
        "--prompts",
        prompts,
        "--model-a",
        SMALL,
        "--model-b",
        LARGE,
        "--gt",
        gt_zip,
        "--stride",
        "2",
        "--out",
        out / "compare",
        *common,
    )
    producer.run("score", "evaluation", "score", "--pred", out / "segment", "--gt", data, "--out", out / "score")
    producer.run("temporal", "evaluation", "temporal", "--pred", out / "segment", "--out", out / "temporal")
    producer.run(
        "evaluation-compare",
        "evaluation",
        "compare",
        out / "segment",
        out / "segment-skip",
        "--gt",
        data,
        "--out",
        out / "evaluation-compare",
    )


def produce_app_output(tree: Path, out: Path) -> None:
    """One call of the public /compare (model A the auto-labeler, B a tracker, with ground truth): the JSON it
    returns and the two videos, under OUT/app."""
    sys.path.insert(0, str(tree))  # the tree's test helper, which starts the tree's app.py
    from gradio_client import Client, handle_file

    from tests.e2e.app_server import serve_app

    started = time.monotonic()
    app = out / "app"
    app.mkdir()
    data = out / "data"
    with tempfile.TemporaryDirectory(prefix="playerseg-golden-app-") as scratch:
        scratch_dir = Path(scratch)
        with serve_app(scratch_dir / "work", scratch_dir / "server.log") as url:
            client = Client(url, verbose=False, download_files=str(scratch_dir / "downloads"), analytics_enabled=False)
            video_a, video_b, summary = client.predict(
                video=handle_file(str(data / "videos" / f"{SEQ}.mp4")),
                prompts=(data / "prompts" / f"{SEQ}.json").read_text(),
                model_a=AUTOLABELER,
                model_b=SMALL,
                ground_truth=handle_file(str(out / "gt.zip")),
                api_name="/compare",
            )
        (app / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")  # key order as answered
        for label, path in (("A", video_a), ("B", video_b)):
            if path is not None:
                shutil.copyfile(path, app / f"video_{label}.mp4")
    print(f"app /compare: {time.monotonic() - started:.1f} s", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    """Produce OUT; exit status 1 (after writing everything it could) when a step failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder (must not exist or be empty)")
    parser.add_argument(
        "--tree",
        type=Path,
        default=Path(__file__).resolve().parents[2],
        help="checkout whose code runs (default: the one holding this script)",
    )
    args = parser.parse_args(argv)
    out, tree = args.out.resolve(), args.tree.resolve()
    if out.exists() and any(out.iterdir()):
        parser.error(f"{out} already holds files")
    out.mkdir(parents=True, exist_ok=True)
    # one CPU for the whole process tree (inherited by every subprocess): libx264's thread count follows it
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    os.environ.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"})
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="playerseg-golden-hf-") as hf_home:
        producer = Producer(tree, out, Path(hf_home))
        produce_cli_outputs(producer)
    try:
        produce_app_output(tree, out)
    except Exception as error:  # recorded like a failed CLI step: the outputs written so far are still compared
        producer.failures.append(f"app /compare failed: {type(error).__name__}: {str(error)[-1500:]}")
    print(f"total: {time.monotonic() - started:.1f} s", file=sys.stderr)
    if producer.failures:
        raise SystemExit("\n".join(producer.failures))


if __name__ == "__main__":
    main()
