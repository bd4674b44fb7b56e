"""The HTML report: one self-contained file (plotly.js inlined once, nothing loaded from the network), tables that
carry the dataclasses' numbers, CSVs that round-trip, and charts that really render in Chromium offline."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation.report.page import write_report
from evaluation.report.tables import CSV_NAMES
from evaluation.results.accuracy import AccuracyResult, DatasetAccuracy
from evaluation.results.agreement import AgreementResult
from evaluation.results.profile import ProfileResult, latency_summary_dict
from evaluation.results.temporal import ObjectStability, TemporalResult
from tests.browser import plotly_page_offline

SCREENSHOT = Path("/tmp/report_screenshot.png")
RANDOM_NOTE = "RANDOM WEIGHTS: test-size models, their masks mean nothing"

# ---------------------------------------------------------------------------------------------------------------
# Hand-made results for two models, A and B


def accuracy(
    name: str,
    J: np.ndarray,
    F: np.ndarray,
    sequence: str = "seq000",
    missing: tuple[int, ...] = (),
    extra: tuple[int, ...] = (),
) -> AccuracyResult:
    return AccuracyResult(
        name,
        sequence,
        tuple(range(J.shape[0])),
        tuple(range(1, J.shape[1] + 1)),
        J,
        F,
        missing_objects=missing,
        extra_objects=extra,
    )


def temporal(name: str, flow: bool, iou: float) -> TemporalResult:
    frames, k = 6, 2
    pair = np.full((frames, k), iou)
    pair[0] = np.nan
    objects = tuple(
        ObjectStability(o, frames, iou, 0.875 if flow else None, 0.0625 * o, 1.5 * o, o, 0.03125, J_decay=0.125)
        for o in (1, 2)
    )
    centroid = np.stack(np.meshgrid(np.arange(k), np.arange(frames)), axis=-1).astype(np.float64)
    return TemporalResult(
        name,
        tuple(range(frames)),
        (1, 2),
        objects,
        area=np.arange(frames * k, dtype=np.float64).reshape(frames, k),
        centroid=centroid,
        consecutive_iou=pair,
        flow_consistency=pair * 0.5 if flow else None,
        boundary_flip=np.zeros((frames, k)),
    )


def profile(name: str, kind: str, base_ms: float) -> ProfileResult:
    n = 10
    frames = np.arange(n)
    return ProfileResult(
        name=name,
        device="cpu" if kind == "process_rss" else "cuda:0 (NVIDIA H200)",
        memory_kind=kind,
        frames=frames,
        latency_ms=base_ms + frames * 1.25,
        memory_mb=200.0 + frames,
        is_prompt=frames == 2,
        is_warmup=frames < 2,
        peak_memory_mb=321.5,
        extra={"decode_ms": np.full(n, 2.5)},
    )


def agreement() -> AgreementResult:
    n = 5
    return AgreementResult(
        "A",
        "B",
        tuple(range(n)),
        (1, 2),
        iou=np.tile([[0.875, 0.5]], (n, 1)),
        differing_pixels=np.full(n, 10.0),
        differing_share=np.full(n, 0.0125),
    )


RNG = np.random.default_rng(3)
ACCURACY = (
    accuracy("A", RNG.uniform(0.4, 1.0, (8, 2)), RNG.uniform(0.4, 1.0, (8, 2)), missing=(2,), extra=(7,)),
    accuracy("B", RNG.uniform(0.0, 0.6, (8, 2)), RNG.uniform(0.0, 0.6, (8, 2))),
)
TEMPORAL = (temporal("A", flow=True, iou=0.8125), temporal("B", flow=False, iou=0.6875))
PROFILES = (profile("A", "process_rss", 40.0), profile("B", "cuda_allocated", 12.0))
AGREEMENT = agreement()
# summary (1) + per sequence J&F and box (2) + temporal (1) + latency, histogram, memory (3) + agreement (1)
FULL_REPORT_FIGURES = 8


@pytest.fixture(scope="module")
def full_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(
        tmp_path_factory.mktemp("report"),
        "A vs B on seq000",
        accuracy=ACCURACY,
        temporal=TEMPORAL,
        profiles=PROFILES,
        agreement=AGREEMENT,
        notes=[RANDOM_NOTE, "Clip trimmed to 10 frames."],
    )


@pytest.fixture(scope="module")
def page_html(full_report: Path) -> str:
    return full_report.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def plotly_js() -> str:
    import plotly.offline

    return plotly.offline.get_plotlyjs()


def section(page: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', page, flags=re.S)
    assert match, f"section {anchor} missing"
    return match.group(1)


def figure_count(page: str) -> int:
    return page.count('class="plotly-graph-div"')


# ---------------------------------------------------------------------------------------------------------------
# The file


def test_report_is_one_file_with_plotly_js_inlined_once(full_report: Path, page_html: str, plotly_js: str) -> None:
    assert full_report.name == "report.html" and full_report.is_file()
    assert page_html.count(plotly_js) == 1
    head = page_html[: page_html.index("</head>")]
    assert plotly_js in head
    # plotly.js plus one inline script per figure, and nothing else.
    assert page_html.count("<script") == 1 + FULL_REPORT_FIGURES
    assert figure_count(page_html) == FULL_REPORT_FIGURES


def test_report_loads_nothing_from_the_network(page_html: str, plotly_js: str) -> None:
    # plotly.js's own code names URLs (map tiles, licences) that it never fetches for these charts; the browser
    # test below proves no request leaves the page. Everything else in the file must be URL-free.
    rest = page_html.replace(plotly_js, "")
    assert "http://" not in rest and "https://" not in rest
    assert "//cdn" not in rest and "mathjax" not in rest.lower()
    assert "@import" not in rest and "@font-face" not in rest
    references = re.findall(r'(?:src|href)="([^"]*)"', rest)
    assert references, "the report links its sections and CSV files"
    assert all(ref.startswith("#") or ref in CSV_NAMES for ref in references)
    assert re.findall(r"\bsrc=", rest) == []  # no external scripts or images at all


def test_header_names_title_models_and_devices(page_html: str) -> None:
    header = page_html[page_html.index('<header class="top">') : page_html.index("</header>")]
    assert "A vs B on seq000" in header
    assert re.search(r"Created</dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d", header)
    assert "A (cpu, memory: CPU process RSS)" in header
    assert "B (cuda:0 (NVIDIA H200), memory: GPU allocated)" in header


def test_notes_come_first_and_random_weights_stand_out(page_html: str) -> None:
    notes_at = page_html.index('class="notes has-warning"')
    assert notes_at < page_html.index("<section")
    assert f'<li class="warning">{RANDOM_NOTE}</li>' in page_html
    assert "<li>Clip trimmed to 10 frames.</li>" in page_html


# ---------------------------------------------------------------------------------------------------------------
# Tables


def test_accuracy_tables_carry_the_davis_numbers(page_html: str) -> None:
    table = section(page_html, "accuracy")
    for result in ACCURACY:
        for value in (
            result.JF_mean,
            result.J_mean,
            result.J_recall,
            result.J_decay,
            result.F_mean,
            result.F_recall,
            result.F_decay,
        ):
            assert f">{value:.3f}<" in table
        for obj in result.per_object:
            for value in (obj.JF, obj.J.mean, obj.J.decay, obj.F.mean, obj.F.decay):
                assert f">{value:.3f}<" in table
    assert "<td>object 2</td><td>object 7</td>" in table  # A: missing object 2, extra object 7
    assert "never predicted" in table


def test_dataset_accuracy_pools_sequences_per_model(tmp_path: Path) -> None:
    s1 = accuracy("A", np.array([[1.0]]), np.array([[1.0]]), sequence="s1")
    s2 = accuracy("A", np.array([[0.0, 0.5]]), np.array([[0.0, 0.5]]), sequence="s2", missing=(1,))
    page = write_report(tmp_path, "dataset", accuracy=[DatasetAccuracy("A", (s1, s2))]).read_text()
    table = section(page, "accuracy")
    assert '<td>A</td><td class="num">2</td><td class="num">2</td><td class="num">0.500</td>' in table
    assert "s2 / object 1" in table
    assert figure_count(page) == 1 + 2 * 2  # summary + J&F and box per sequence


def test_flicker_table_carries_per_model_and_per_object_numbers(page_html: str) -> None:
    table = section(page_html, "temporal")
    assert '<td>A</td><td class="num">6</td><td class="num">0.812</td><td class="num">0.875</td>' in table
    # B ran without frames: its flow consistency is shown as missing, not as zero.
    assert '<td>B</td><td class="num">6</td><td class="num">0.688</td><td class="num">–</td>' in table
    assert ">0.094<" in table  # mean area volatility of A: (0.0625 + 0.125) / 2
    assert ">3<" in table  # presence toggles of A: 1 + 2
    assert ">0.125<" in table  # per-object J decay


def test_latency_table_carries_the_summary(page_html: str) -> None:
    table = section(page_html, "latency")
    for p in PROFILES:
        s = p.summary()
        row = re.search(rf"<tr><td>{p.name}</td>.*?</tr>", table).group(0)
        for value in (s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms, s.prompt_ms, s.peak_memory_mb):
            assert f">{value:.1f}<" in row
        assert f">{s.fps:.2f}<" in row
        assert f"<td>{s.device}</td>" in row
    assert "GPU allocated" in table and "CPU process RSS" in table


def test_agreement_section_is_labelled_as_agreement(page_html: str) -> None:
    part = section(page_html, "agreement")
    assert "Agreement between A and B (not accuracy)" in part
    assert ">0.875<" in part and ">0.500<" in part and ">0.688<" in part  # per object and mean IoU
    assert ">1.25<" in part  # mean share of differing pixels, in percent


def test_names_are_escaped(tmp_path: Path) -> None:
    page = write_report(tmp_path, "<i>t</i>", profiles=[profile("<b>m</b>", "process_rss", 5.0)]).read_text()
    assert "<b>m</b>" not in page and "&lt;b&gt;m&lt;/b&gt;" in page
    assert "<i>t</i>" not in page


# ---------------------------------------------------------------------------------------------------------------
# Sections and CSV files


def test_csv_files_round_trip_with_pandas(full_report: Path) -> None:
    folder = full_report.parent
    expected = {
        "accuracy_per_frame.csv": pd.concat([r.to_pandas() for r in ACCURACY], ignore_index=True),
        "accuracy_per_object.csv": pd.concat([r.objects_to_pandas() for r in ACCURACY], ignore_index=True),
        "temporal_per_frame.csv": pd.concat([t.to_pandas() for t in TEMPORAL], ignore_index=True),
        "temporal_per_object.csv": pd.concat([t.objects_to_pandas() for t in TEMPORAL], ignore_index=True),
        "latency_per_frame.csv": pd.concat([p.to_pandas() for p in PROFILES], ignore_index=True),
        "latency_summary.csv": pd.DataFrame([{"name": p.name, **latency_summary_dict(p.summary())} for p in PROFILES]),
        "agreement_per_frame.csv": AGREEMENT.to_pandas().assign(name_a="A", name_b="B")[
            ["name_a", "name_b", "frame", "object_id", "iou", "differing_share"]
        ],
    }
    assert sorted(p.name for p in folder.glob("*.csv")) == sorted(expected)
    for name, table in expected.items():
        read = pd.read_csv(folder / name)
        # None (a metric that was not measured) comes back as NaN, the only way a CSV can say it.
        pd.testing.assert_frame_equal(read, table.infer_objects(), check_dtype=False, obj=name)


def test_sections_without_data_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "accuracy_per_frame.csv").write_text("stale\n")  # from an earlier, fuller report
    page = write_report(tmp_path, "latency only", profiles=PROFILES).read_text()
    assert 'id="latency"' in page
    for anchor in ("summary", "accuracy", "temporal", "agreement"):
        assert f'id="{anchor}"' not in page
    assert "Read first" not in page  # no notes given
    assert figure_count(page) == 3
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == ["latency_per_frame.csv", "latency_summary.csv"]


def test_a_report_without_results_says_so(tmp_path: Path) -> None:
    page = write_report(tmp_path / "new", "nothing").read_text()
    assert "No results were given" in page
    assert figure_count(page) == 0
    assert list((tmp_path / "new").glob("*.csv")) == []


# ---------------------------------------------------------------------------------------------------------------
# A real browser, offline


def test_report_renders_every_chart_in_chromium_offline(full_report: Path, page_html: str) -> None:
    expected = figure_count(page_html)
    seen = plotly_page_offline(full_report, min_charts=expected, screenshot=str(SCREENSHOT))
    assert seen["drawn"] == seen["charts"] == expected == FULL_REPORT_FIGURES
    assert seen["outside"] == []
    assert seen["errors"] == []
