"""The manifest of a golden output folder (made by tests/golden/produce.py): {relative path: normalised digest}.

Every byte of every file is compared except what changes between two runs of the SAME code on the same machine; those
values are masked by the explicit rules below (each says what and why), found by running the producer twice and
diffing. Masks, frames, zips and PNGs are compared as raw bytes. Videos are compared decoded: frame count, size, and
each frame as a 16x9 grid of grey means within VIDEO_TOLERANCE levels (libx264 gave different bytes for the same input
frames from one run to the next on the Intel Xeon VM of 2026-12-02, with pinned threads and CPU: grid noise <= 2 levels,
while a changed mask moves a cell by tens). Text files are compared after masking, and keep a readable detail (JSON
leaves, CSV and log lines, HTML sections) so a mismatch can say which keys or lines changed.

    python tests/golden/manifest.py OUT                    # print the manifest of OUT
    python tests/golden/manifest.py OUT --write FILE       # write it (tests/golden/expected.json)
    python tests/golden/manifest.py OUT --check FILE       # compare with FILE; exit 1 and list differences
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import platform
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

MASK = "<volatile>"
VIDEO_SUFFIXES = (".mp4",)
VIDEO_GRID = (16, 9)  # (columns, rows) of grey means per decoded frame
VIDEO_TOLERANCE = 4  # grey levels a grid cell may move between two encodings of the same frames
ABSENT = "<absent>"
# --- every text file: the absolute path of the output folder (a new temporary folder each run: run.json's clip.path
# and command, summary.json's files, detections file, CLI messages) is written <OUT>
OUT_PLACEHOLDER = "<OUT>"

# --- paths -------------------------------------------------------------------------------------------------------
# `compare --gt x.zip` unpacks the upload into compare/ground_truth/ground_truth-XXXXXXXX (tempfile.mkdtemp: a random
# 8-character suffix every run); the files under it are compared, the random folder name is not.
RANDOM_PATH_SEGMENTS = [(re.compile(r"\b(ground_truth-)[a-z0-9_]{8}(?=/|$)"), r"\1<random>")]

# --- JSON (run.json, summary.json, detections.json, meta.json, the app's /compare answer) ---------------------------
# Keys masked wherever they are: "created" is the wall-clock time a run was written; "host" is the machine's name.
JSON_VOLATILE_KEYS = {"created", "host"}
# Keys masked inside a parent key ("*": any key of that parent). Scalars only: a null stays null, so "measured or
# not" is still compared.
JSON_VOLATILE_CHILDREN = {
    # run.json "timings": wall-clock seconds of each phase (tracking_s, masks_s, overlay_s, flicker_s, detection_s...)
    "timings": {"*"},
    # run.json / summary.json "latency": measured per-frame wall-clock times, throughput and the process's peak RSS.
    # Kept: frames, warmup_frames, prompt_frames, memory_kind, device (facts of the run, not measurements).
    "latency": {"p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "fps", "prompt_ms", "total_s", "peak_memory_mb"},
    # run.json / summary.json "memory": the peak RSS measured (process_rss on CPU); "kind" is kept
    "memory": {"peak_mb"},
}
# the tokens of a JSON text, to mask values in place (Python's json writes NaN and Infinity too)
JSON_TOKEN = re.compile(
    r'(?P<string>"(?:[^"\\]|\\.)*")|(?P<literal>-?(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|Infinity)|true|false|null|NaN)'
    r"|(?P<punct>[{}\[\]:,])"
)

# --- CSV (frames.csv, the evaluation reports' tables) ---------------------------------------------------------------
# Columns of measured wall-clock time and memory (frames.csv, latency_per_frame.csv, latency_summary.csv); every
# other column (frame, time_s = the frame's time in the clip, passes, visible_objects, motion_px, J, F, IoU...) is
# compared. Empty cells stay empty.
CSV_VOLATILE_COLUMNS = {
    "latency_ms",
    "decode_ms",
    "prompt_ms",
    "detect_ms",
    "gate_ms",
    "memory_mb",
    "peak_memory_mb",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "mean_ms",
    "fps",
}

# --- logs (each CLI's stdout/stderr, saved by produce.py as logs/STEP.stdout|stderr) --------------------------------
NUMBER = r"\d+(?:\.\d+)?"
LOG_RULES = [
    # autolabel: "time: detection 0.96 s, tracking 4.69 s" (wall-clock seconds)
    (re.compile(r"^(time: .*)$", re.M), lambda m: re.sub(rf"{NUMBER} s\b", f"{MASK} s", m.group(1))),
    # compare's table rows "A: name   p50 ms   p95 ms   peak MB memory  cons. IoU  J&F": the first three numbers
    # are measured latency and memory (their padding follows their width); the rest is compared
    (re.compile(r"^([AB]: .*)$", re.M), lambda m: re.sub(rf"\s+{NUMBER}(?=\s)", f" {MASK}", m.group(1), count=3)),
]

# --- HTML reports (evaluation's report.html) -------------------------------------------------------------------------
HTML_RULES = [
    # the "Created" date in the header (wall-clock time)
    (re.compile(r"(<dt>Created</dt><dd>)[^<]*(</dd>)"), rf"\1{MASK}\2"),
]
# plotly gives each chart's <div> a random uuid4 id: numbered in order of appearance instead
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# the "Latency & memory" section: its table and charts are measured times and memory. Its numbers and the charts'
# base64 arrays ("bdata") are masked; its words, columns and chart layout are compared.
HTML_LATENCY_SECTION = re.compile(r'<section id="latency">.*?</section>', re.S)
HTML_SECTION = re.compile(r'<section id="([^"]+)">.*?</section>', re.S)

TEXT_SUFFIXES = {".json", ".csv", ".html", ".stdout", ".stderr", ".txt", ".md"}
# packages whose versions decide the bytes (numerics, codecs, report templates): recorded beside the digests
ENVIRONMENT_PACKAGES = (
    "torch",
    "numpy",
    "av",
    "opencv-python",
    "opencv-python-headless",
    "pillow",
    "plotly",
    "pandas",
    "gradio",
    "gradio_client",
    "transformers",
    "sam2",
)


def digest(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def normalised_path(relative: str) -> str:
    for pattern, replacement in RANDOM_PATH_SEGMENTS:
        relative = pattern.sub(replacement, relative)
    return relative


def mask_json_text(text: str) -> str:
    """The JSON text with each volatile scalar (JSON_VOLATILE_KEYS, JSON_VOLATILE_CHILDREN) replaced in place by
    "<volatile>": every other byte (key order, indentation, escaping) stays as written."""
    spans = []
    stack: list[dict[str, Any]] = []  # open containers: {"name": key it sits under, "key": current key, "object"}
    expect_key = False
    for token in JSON_TOKEN.finditer(text):
        kind, value = token.lastgroup, token.group(token.lastgroup or 0)
        top = stack[-1] if stack else None
        if kind == "punct":
            if value in "{[":
                name = top["key"] if top and top["object"] else top["name"] if top else None
                stack.append({"name": name, "key": None, "object": value == "{"})
                expect_key = value == "{"
            elif value in "}]":
                stack.pop()
            else:  # ":" ends a key, "," in an object starts the next one
                expect_key = value == "," and bool(top and top["object"])
        elif top and top["object"] and expect_key:
            top["key"] = json.loads(value)
        elif top and top["object"] and _volatile(top["name"], top["key"], value):
            spans.append(token.span(kind))
    for start, end in reversed(spans):
        text = f'{text[:start]}"{MASK}"{text[end:]}'
    return text


def _volatile(parent: str | None, key: str, literal: str) -> bool:
    """A volatile member: a measured scalar (a null stays null, so "measured or not" is still compared)."""
    if literal == "null":
        return False
    children = JSON_VOLATILE_CHILDREN.get(parent or "", set())
    return key in JSON_VOLATILE_KEYS or key in children or "*" in children


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """JSON leaves by path: a.b[0]["key with spaces"]."""
    if isinstance(value, dict) and value:
        leaves: dict[str, Any] = {}
        for key, child in value.items():
            step = f".{key}" if re.fullmatch(r"[A-Za-z_][\w-]*", key) else f"[{json.dumps(key)}]"
            leaves.update(flatten(child, f"{prefix}{step}" if prefix or step[0] == "[" else key))
        return leaves
    if isinstance(value, list) and value:
        leaves = {}
        for index, child in enumerate(value):
            leaves.update(flatten(child, f"{prefix}[{index}]"))
        return leaves
    return {prefix or "<root>": value}


def json_entry(text: str) -> dict[str, Any]:
    masked = mask_json_text(text)
    return {"sha256": digest(masked), "leaves": flatten(json.loads(masked))}


def csv_entry(text: str) -> dict[str, Any]:
    """The CSV with the cells of CSV_VOLATILE_COLUMNS masked, line by line in place (quoting and line endings kept:
    a line the csv module would not write back the same is kept whole)."""
    lines = text.splitlines(keepends=True)
    header = next(csv.reader(lines[:1]), [])
    volatile = [index for index, column in enumerate(header) if column in CSV_VOLATILE_COLUMNS]
    masked = lines[:1]
    for line in lines[1:]:
        body = line.rstrip("\r\n")
        cells = next(csv.reader([body]), [])
        if _csv_line(cells) != body:
            masked.append(line)
            continue
        for index in volatile:
            if index < len(cells) and cells[index] != "":
                cells[index] = MASK
        masked.append(_csv_line(cells) + line[len(body) :])
    return {"sha256": digest("".join(masked)), "lines": [line.rstrip("\r\n") for line in masked]}


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def log_entry(text: str) -> dict[str, Any]:
    for pattern, replace in LOG_RULES:
        text = pattern.sub(replace, text)
    return {"sha256": digest(text), "lines": text.splitlines()}


def html_entry(text: str) -> dict[str, Any]:
    for pattern, replacement in HTML_RULES:
        text = pattern.sub(replacement, text)
    numbering: dict[str, str] = {}
    text = UUID.sub(lambda m: numbering.setdefault(m.group(0), f"<plot-{len(numbering)}>"), text)
    text = HTML_LATENCY_SECTION.sub(_mask_latency_section, text)
    sections = {f"section {m.group(1)}": digest(m.group(0)) for m in HTML_SECTION.finditer(text)}
    body = max(text.find("<body"), 0)
    parts = {
        "<head> (style, plotly.js)": digest(text[:body]),
        "header, notes, footer": digest(HTML_SECTION.sub("", text[body:])),
    }
    return {"sha256": digest(text), "parts": {**parts, **sections}}


def _mask_latency_section(match: re.Match[str]) -> str:
    section = re.sub(r'"bdata":"[^"]*"', f'"bdata":"{MASK}"', match.group(0))
    # numbers outside tags' attribute names: table cells, chart values, hover texts ("p50 275.4 ms")
    return re.sub(rf"(?<![\w#.-]){NUMBER}(?:e[+-]?\d+)?(?![\w-])", "#", section)


def video_entry(path: Path) -> dict[str, Any]:
    """A video decoded: its frame count and size (the digest) and a coarse grey grid per frame (compared within
    VIDEO_TOLERANCE)."""
    import av
    import cv2

    grids, size = [], None
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            grey = cv2.cvtColor(frame.to_ndarray(format="rgb24"), cv2.COLOR_RGB2GRAY)
            size = [grey.shape[1], grey.shape[0]]
            grids.append(cv2.resize(grey, VIDEO_GRID, interpolation=cv2.INTER_AREA).flatten().tolist())
    return {"sha256": digest(json.dumps([len(grids), size])), "video": grids}


def _video_changes(want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Frames whose grid moved by more than the tolerance (a different count or size already differs by digest)."""
    changed = []
    for index, (a, b) in enumerate(zip(want["video"], got["video"])):
        moved = max(abs(x - y) for x, y in zip(a, b))
        if moved > VIDEO_TOLERANCE:
            changed.append(f"frame {index}: a grid cell moved by {moved} grey levels (tolerance {VIDEO_TOLERANCE})")
    return changed


def file_entry(path: Path, out: Path) -> dict[str, Any]:
    if path.suffix in VIDEO_SUFFIXES:
        return video_entry(path)
    data = path.read_bytes()
    if path.suffix not in TEXT_SUFFIXES:
        return {"sha256": digest(data)}
    text = data.decode().replace(str(out), OUT_PLACEHOLDER)
    if path.suffix == ".json":
        return json_entry(text)
    if path.suffix == ".csv":
        return csv_entry(text)
    if path.suffix == ".html":
        return html_entry(text)
    return log_entry(text)


def cpu_model() -> str:
    """The CPU's model name: torch and OpenCV pick their vector kernels by CPU, so another CPU kind (an AMD EPYC vs an
    Intel Xeon VM) changes floats and with them a few mask pixels and every encoded byte downstream."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment() -> dict[str, Any]:
    """What else decides the bytes: the platform and the versions of the numeric, codec and report packages."""
    packages = {}
    for name in ENVIRONMENT_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "system": platform.system(),
        "packages": packages,
    }


def build_manifest(out: str | Path) -> dict[str, Any]:
    """{"environment": ..., "files": {normalised relative path: entry}} of the folder produce.py wrote."""
    out = Path(out).resolve()
    files = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        files[normalised_path(path.relative_to(out).as_posix())] = file_entry(path, out)
    return {"environment": environment(), "files": dict(sorted(files.items()))}


def differences(expected: dict[str, Any], actual: dict[str, Any], shown: int = 5) -> list[str]:
    """One line per differing file (missing, extra, changed), with the first differing keys, lines or sections."""
    want, got = expected["files"], actual["files"]
    report = _grouped("missing", sorted(want.keys() - got.keys())) + _grouped("new", sorted(got.keys() - want.keys()))
    for path in sorted(want.keys() & got.keys()):
        if "video" in want[path] and "video" in got[path] and want[path]["sha256"] == got[path]["sha256"]:
            moved = _video_changes(want[path], got[path])
            if moved:
                report.append(f"changed: {path}" + "".join(f"\n    {line}" for line in moved[:shown]))
        elif want[path]["sha256"] != got[path]["sha256"]:
            report.append(
                f"changed: {path}" + "".join(f"\n    {line}" for line in _detail(want[path], got[path], shown))
            )
    if report and expected.get("environment") != actual.get("environment"):
        want_env, got_env = json.dumps(expected.get("environment")), json.dumps(actual.get("environment"))
        report.append(
            f"note: the environment differs from the one expected.json was made in (regenerate it there "
            f"from the pre-change code, see tests/golden/README.md):\n    expected {want_env}\n"
            f"    actual   {got_env}"
        )
    return report


def _grouped(what: str, paths: list[str], most: int = 3) -> list[str]:
    """One line per path, or per folder when more than `most` of its files are listed (a mask folder: one line)."""
    folders: dict[str, list[str]] = {}
    for path in paths:
        folders.setdefault(path.rpartition("/")[0], []).append(path)
    lines = []
    for folder, inside in folders.items():
        if len(inside) > most:
            lines.append(
                f"{what}: {folder}/ ({len(inside)} files: {inside[0].rpartition('/')[2]} ... "
                f"{inside[-1].rpartition('/')[2]})"
            )
        else:
            lines += [f"{what}: {path}" for path in inside]
    return lines


def _detail(want: dict[str, Any], got: dict[str, Any], shown: int) -> list[str]:
    """The first differing JSON leaves, HTML sections or text lines of one changed file, expected vs got."""
    for kind in ("leaves", "parts", "lines"):
        if kind in want and kind in got:
            a, b = want[kind], got[kind]
            if kind == "lines":  # numbered from 1, as an editor shows them
                a, b = ({f"line {i + 1}": line for i, line in enumerate(side)} for side in (a, b))
            keys = list(dict.fromkeys([*a, *b]))
            changed = [key for key in keys if a.get(key, ABSENT) != b.get(key, ABSENT)]
            if not changed:
                return [f"same {kind}: their order, the formatting, escaping or line endings differ"]
            lines = [
                f"{key}: expected {_short(a.get(key, ABSENT))}\n    {key}:      got {_short(b.get(key, ABSENT))}"
                for key in changed[:shown]
            ]
            return lines + ([f"... and {len(changed) - shown} more"] if len(changed) > shown else [])
    return ["(bytes differ)"]


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Manifest of a golden output folder (tests/golden/produce.py).")
    parser.add_argument("out", type=Path, help="the folder produce.py wrote")
    parser.add_argument("--write", type=Path, help="write the manifest to this file")
    parser.add_argument("--check", type=Path, help="compare with this manifest; exit 1 on differences")
    args = parser.parse_args(argv)
    manifest = build_manifest(args.out)
    if args.check:
        report = differences(json.loads(args.check.read_text()), manifest)
        print("\n".join(report) if report else "equal", file=sys.stderr if report else sys.stdout)
        return 1 if report else 0
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    if args.write:
        args.write.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
