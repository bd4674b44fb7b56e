"""The Dataset tab without a browser: uploads of an evaluate OUT folder read the way a public server must (good zip,
bare leaderboard.json, a zip without one, unsafe and oversized zips, broken JSON), the tables and charts built from
a real leaderboard, the handlers, and the example dataset's files (no server path in them). The leaderboard comes
from `python -m playerseg evaluate` run once on a 2-sequence, 6-frame synthetic dataset with two random models."""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pytest

from evaluation.leaderboard.manifest import ModelEntry
from evaluation.leaderboard.rows import PairFailure
from evaluation.leaderboard.table import Leaderboard, build_leaderboard
from playerseg.__main__ import main
from playerseg.synthetic.dataset import generate_dataset
from playerseg.ui import dataset_sources
from playerseg.ui.config import AppConfig
from playerseg.ui.dataset_sources import DatasetUploadError, dataset_folder, parse_leaderboard, read_upload
from playerseg.ui.dataset_tab import (
    MODEL_COLUMNS,
    DatasetHandler,
    build_dataset_tab,
    example_models,
    failures_markdown,
    jf_by_model,
    jf_by_sequence,
    latency_by_model,
    models_table,
    sequences_table,
    summary_markdown,
)
from playerseg.ui.session import Session

MODELS = ("test-sam2.1-tiny-128", "random-sam2.1-nano")
DOWNLOADS = ["report.html", "leaderboard.csv", "models.csv", "leaderboard.json"]
TITLE_CHARACTERS = 45  # a title of 17 px type this long fits a half-width chart at a 1000 px window


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evaluate")
    generate_dataset(root / "data", sequences=2, frames=6, players=2, width=160, height=90, seed=4)
    argv = ["evaluate", "--data", str(root / "data"), "--models", ",".join(MODELS), "--out", str(root / "out")]
    assert main([*argv, "--device", "cpu", "--quiet"]) == 0
    return root / "out"


@pytest.fixture(scope="module")
def board(out: Path) -> Leaderboard:
    return Leaderboard.from_json(json.loads((out / "leaderboard.json").read_text()))


def _zip(target: Path, files: dict[str, bytes | Path]) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content.read_bytes() if isinstance(content, Path) else content)
    return target


def _zip_folder(folder: Path, target: Path) -> Path:
    """OUT zipped the way a file manager does it: every file under out/."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, arcname=f"out/{path.relative_to(folder).as_posix()}")
    return target


def _published(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# ---------------------------------------------------------------------------------------------------------------
# Uploads


def test_a_zipped_out_folder_shows_its_leaderboard_and_keeps_only_four_files(out: Path, tmp_path: Path) -> None:
    upload = _zip_folder(out, tmp_path / "upload.zip")
    folder = dataset_folder(tmp_path / "session")
    result = read_upload(upload, folder, display_name="C:\\Users\\me\\season out.zip")
    assert result.source == "season out.zip" and not result.example
    assert [p.name for p in result.files] == DOWNLOADS
    assert _published(folder) == sorted(DOWNLOADS)  # runs/ and evaluate.json stayed in the zip
    assert (folder / "report.html").read_bytes() == (out / "report.html").read_bytes()  # the zip's own report
    assert result.board.manifest.model_names == MODELS and len(result.board.rows) == 4


def test_a_bare_leaderboard_json_gets_a_report_that_names_no_server_folder(out: Path, tmp_path: Path) -> None:
    folder = dataset_folder(tmp_path / "session")
    result = read_upload(out / "leaderboard.json", folder, display_name="leaderboard.json")
    assert [p.name for p in result.files] == DOWNLOADS
    page = (folder / "report.html").read_text()
    assert str(tmp_path) not in page and "uploaded" not in page.split("</script>")[-1]
    assert result.board.manifest.data == json.loads((out / "leaderboard.json").read_text())["manifest"]["data"]


def test_a_zip_without_a_leaderboard_is_refused_and_leaves_nothing(out: Path, tmp_path: Path) -> None:
    upload = _zip(tmp_path / "runs.zip", {"out/models.csv": out / "models.csv", "out/report.html": b"<html>"})
    folder = dataset_folder(tmp_path / "session")
    with pytest.raises(DatasetUploadError, match=r"^runs\.zip holds no leaderboard\.json: zip the OUT folder"):
        read_upload(upload, folder, display_name="runs.zip")
    assert _published(folder) == []


@pytest.mark.parametrize("name", ["../leaderboard.json", "/etc/leaderboard.json", "C:/leaderboard.json", "a/../../x"])
def test_a_zip_with_an_unsafe_path_is_refused(out: Path, tmp_path: Path, name: str) -> None:
    upload = _zip(tmp_path / "evil.zip", {"out/leaderboard.json": out / "leaderboard.json", name: b"{}"})
    folder = dataset_folder(tmp_path / "session" / "deep")
    with pytest.raises(DatasetUploadError, match=r"^evil\.zip holds an unsafe entry .* \(an absolute path, '\.\.'"):
        read_upload(upload, folder, display_name="evil.zip")
    assert _published(tmp_path / "session") == ["deep", f"deep/{folder.name}"]


def test_a_zip_holding_a_link_is_refused(out: Path, tmp_path: Path) -> None:
    upload = tmp_path / "link.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr("out/leaderboard.json", (out / "leaderboard.json").read_bytes())
        link = zipfile.ZipInfo("out/report.html")
        link.external_attr = 0o120777 << 16  # a symlink entry
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(DatasetUploadError, match="unsafe entry 'out/report.html'"):
        read_upload(upload, dataset_folder(tmp_path / "session"), display_name="link.zip")


def test_oversized_uploads_are_refused_before_they_are_read(
    out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset_sources, "MAX_JSON_BYTES", 1000)
    upload = _zip(tmp_path / "big.zip", {"leaderboard.json": b" " * 2000 + b"{}"})
    with pytest.raises(DatasetUploadError, match=r"^big\.zip holds a leaderboard\.json of more than 0\.0 MB"):
        read_upload(upload, dataset_folder(tmp_path / "a"), display_name="big.zip")
    with pytest.raises(DatasetUploadError, match=r"^leaderboard\.json is .* more than the .* a leaderboard\.json may"):
        read_upload(out / "leaderboard.json", dataset_folder(tmp_path / "b"), display_name="leaderboard.json")
    monkeypatch.setattr(dataset_sources, "MAX_ZIP_ENTRIES", 3)
    many = _zip(tmp_path / "many.zip", {f"out/runs/{i}.png": b"x" for i in range(4)})
    with pytest.raises(DatasetUploadError, match=r"^many\.zip holds 4 entries, more than the 3 this app reads"):
        read_upload(many, dataset_folder(tmp_path / "c"), display_name="many.zip")


def test_a_zip_whose_declared_sizes_lie_is_refused(tmp_path: Path) -> None:
    upload = tmp_path / "bomb.zip"
    with zipfile.ZipFile(upload, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("leaderboard.json", b"0" * 50_000)
    data = bytearray(upload.read_bytes())
    for offset in (22, data.rindex(b"PK\x01\x02") + 24):  # uncompressed size in the local and central headers
        data[offset : offset + 4] = (10).to_bytes(4, "little")
    upload.write_bytes(bytes(data))
    with pytest.raises(DatasetUploadError, match=r"^bomb\.zip cannot be read as a zip archive"):
        read_upload(upload, dataset_folder(tmp_path / "s"), display_name="bomb.zip")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", r"^lb\.json is not valid JSON \("),
        (b'{"rows": []}', r"^lb\.json is not a leaderboard written by .* \(it has no manifest and rows\)\.$"),
        (b'{"manifest": {"models": [], "sequences": []}, "rows": []}', r"^lb\.json names no model\.$"),
        (b"[" * 100_000 + b"]" * 100_000, r"^lb\.json is not valid JSON"),
    ],
)
def test_broken_json_gets_one_sentence(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "lb.json"
    path.write_bytes(content)
    with pytest.raises(DatasetUploadError, match=message):
        read_upload(path, dataset_folder(tmp_path / "s"), display_name="lb.json")


def test_a_leaderboard_too_large_to_summarise_is_refused(out: Path) -> None:
    raw = json.loads((out / "leaderboard.json").read_text())
    raw["manifest"]["sequences"] = [f"s{i}" for i in range(dataset_sources.MAX_SEQUENCES + 1)]
    with pytest.raises(DatasetUploadError, match="holds 2 models and 1001 sequences; this app shows at most"):
        parse_leaderboard(json.dumps(raw).encode(), "the leaderboard.json in x.zip")
    raw["manifest"]["sequences"] = ["s0"]
    with pytest.raises(DatasetUploadError, match="^The leaderboard.json in x.zip holds more rows than its models"):
        parse_leaderboard(json.dumps(raw).encode(), "the leaderboard.json in x.zip")
    del raw["rows"][0]["JF"]
    raw["manifest"]["sequences"] = ["seq000", "seq001"]
    with pytest.raises(DatasetUploadError, match=r"is not a leaderboard written by .*\(a score is missing JF\)"):
        parse_leaderboard(json.dumps(raw).encode(), "the leaderboard.json in x.zip")


def test_a_file_that_is_neither_zip_nor_json_is_refused(tmp_path: Path) -> None:
    for name, message in (
        ("notes.txt", r"must be a \.zip of an evaluate OUT"),
        ("fake.zip", "cannot be read as a zip"),
    ):
        path = tmp_path / name
        path.write_bytes(b"hello")
        with pytest.raises(DatasetUploadError, match=f"^{name.replace('.', '[.]')} {message}"):
            read_upload(path, dataset_folder(tmp_path / "session"), display_name=name)


# ---------------------------------------------------------------------------------------------------------------
# Tables and charts


def _with_failed_model(board: Leaderboard) -> Leaderboard:
    """The fixture's board plus a third model that failed on both sequences (weights offline)."""
    manifest = replace(board.manifest, models=(*board.manifest.models, ModelEntry("big")))
    reason = "the model is not available (it needs big.pt from /srv/cache/big.pt)."
    failures = [PairFailure("big", s, f"big on {s}: {reason}") for s in board.manifest.sequences]
    return build_leaderboard(manifest, board.rows, failures)


def test_the_model_table_gives_intervals_speed_memory_and_weights(board: Leaderboard) -> None:
    table = models_table(_with_failed_model(board))
    assert list(table.columns) == MODEL_COLUMNS and list(table["model"]) == [*MODELS, "big"]
    first, second, failed = table.to_dict("records")
    assert first["sequences"] == "2 of 2" and first["fps vs baseline ↑"] == "baseline"
    assert first["J&F ↑ (95% interval)"].count("[") == 1 and first["peak memory ↓"].endswith("MB RSS")
    assert second["fps vs baseline ↑"].endswith("×") and "random weights" in second["weights"]
    assert failed["sequences"] == "0 of 2, 2 failed" and failed["J&F ↑ (95% interval)"] == "—"


def test_failed_pairs_are_listed_once_per_model_and_reason_without_server_paths(board: Leaderboard) -> None:
    text = failures_markdown(_with_failed_model(board))
    assert text.startswith("**2 failed pairs**") and text.count("\n- ") == 1
    assert "`big` on seq000, seq001: the model is not available" in text and "/srv" not in text
    assert failures_markdown(board) == ""


def test_the_summary_labels_random_weights_and_leads_with_the_verdict(board: Leaderboard, tmp_path: Path) -> None:
    result = dataset_sources.DatasetResult(board, "out.zip", (), example=True)
    text = summary_markdown(result)
    assert text.startswith("**Showing out.zip:** 2 models") and "These clips are synthetic" in text
    assert "⚠️ **Random weights:** `test-sam2.1-tiny-128`, `random-sam2.1-nano`" in text
    assert "### Verdict\n**" in text


def test_the_sequence_table_has_one_rounded_row_per_model_and_sequence(board: Leaderboard) -> None:
    table = sequences_table(board)
    assert len(table) == 4 and list(table["model"]) == [MODELS[0]] * 2 + [MODELS[1]] * 2
    assert all(value == round(value, 3) for value in table["J&F ↑"])


def test_charts_have_short_titles_and_name_every_model_in_the_legend(board: Leaderboard) -> None:
    board = _with_failed_model(board)
    colors = {"test-sam2.1-tiny-128": "#111111", "random-sam2.1-nano": "#222222", "big": "#333333"}
    for figure in (jf_by_model(board, colors), latency_by_model(board, colors), jf_by_sequence(board, colors)):
        assert len(figure.layout.title.text) <= TITLE_CHARACTERS, figure.layout.title.text
        names = [trace.name for trace in figure.data]
        assert names == [f"{model} (random weights)" for model in MODELS]  # big has no score and no speed
    bars = jf_by_model(board, colors).data[0]
    assert bars.error_y.arrayminus[0] >= 0 and bars.error_y.array[0] >= 0


def test_a_leaderboard_without_scores_draws_no_data_charts(board: Leaderboard) -> None:
    empty = build_leaderboard(board.manifest, [], [])
    colors = dict.fromkeys(MODELS, "#000000")
    for figure in (jf_by_model(empty, colors), latency_by_model(empty, colors)):
        assert figure.data == () and figure.layout.annotations[0].text.startswith("no ")


# ---------------------------------------------------------------------------------------------------------------
# Handlers and the example


def test_the_upload_handler_reads_only_uploads_and_keeps_one_leaderboard_per_session(
    out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = tmp_path / "uploads"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))
    with gr.Blocks():
        tab = build_dataset_tab(AppConfig(models=MODELS))
    config = AppConfig(models=MODELS, work_dir=str(tmp_path / "work"))
    handler = DatasetHandler(config, tab)
    session = Session()
    with pytest.raises(gr.Error) as refused:
        handler.load_dataset(session, str(out / "leaderboard.json"))  # a server path, not an upload
    assert "must be a file uploaded with the request" in refused.value.message
    for attempt in range(2):
        (uploads / f"h{attempt}").mkdir(parents=True)
        sent = shutil.copy(out / "leaderboard.json", uploads / f"h{attempt}" / "leaderboard.json")
        values = handler.load_dataset(session, sent)
        assert len(values) == len(tab.outputs()) and values[0].startswith("**Showing leaderboard.json:**")
    folders = list(session.work_dir(config.work_dir).glob("dataset-*"))
    assert len(folders) == 1 and [Path(p).parent for p in values[-1]] == [folders[0]] * 4
    bad = uploads / "h2" / "lb.json"
    bad.parent.mkdir()
    bad.write_text("{")
    with pytest.raises(gr.Error) as refused:
        handler.load_dataset(session, str(bad))
    assert refused.value.message.startswith("lb.json is not valid JSON (")
    assert list(session.work_dir(config.work_dir).glob("dataset-*")) == folders  # the failed one left nothing


def test_the_example_uses_the_default_pair_once_each() -> None:
    assert example_models(AppConfig(models=MODELS)) == MODELS
    assert example_models(AppConfig(models=("test-sam2.1-tiny-128",))) == ("test-sam2.1-tiny-128",)


def test_the_example_publishes_four_files_that_name_no_server_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset_sources, "EXAMPLE_SEQUENCES", 2)
    monkeypatch.setattr(dataset_sources, "EXAMPLE_FRAMES", 3)
    steps: list[str] = []
    folder = dataset_folder(tmp_path / "session")
    result = dataset_sources.run_example(folder, MODELS, "cpu", lambda done, desc: steps.append(desc))
    assert result.example and steps[0].startswith("Generating") and len(result.board.rows) == 4
    assert _published(folder) == sorted(DOWNLOADS)  # the clips and run folders are gone
    for path in result.files:
        assert str(tmp_path) not in path.read_text(), path.name
