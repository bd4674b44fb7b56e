"""Issue 18's contenders in the app, in a real browser: a U-Net baseline folder in the models folder is offered as
"unet:NAME" with its model.json facts under the dropdowns, and SAM 3's tracker (test-sam3) runs against it on a
clicked clip, each run folder saying its family; the /compare endpoint runs SAM 3 as the auto-labeler against the
U-Net named as the app names it, and its list of choices never shows a server path. Screenshots go to
test-output/browser/contenders-*.png."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from playerseg.synthetic.dataset import generate_dataset
from tests.browser import chromium_page
from tests.e2e.app_server import serve_app
from tests.e2e.app_steps import (
    SHOTS,
    open_app,
    open_tab,
    run_models,
    upload_and_click_players,
    videos_ready,
    wait_for_plots,
)

WIDTH, HEIGHT = 320, 180
SAM3_AUTOLABELER = "autolabel:test-sam3"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    from playerseg.unet.__main__ import main as unet_main

    root = tmp_path_factory.mktemp("contenders-app")
    data = root / "data"
    generate_dataset(data, sequences=2, frames=6, players=2, width=WIDTH, height=HEIGHT, seed=4)
    models = root / "models"
    args = ["train", "--data", str(data), "--out", str(models / "baseline"), "--epochs", "1", "--size", "64"]
    assert unet_main([*args, "--depth", "3", "--quiet", "--synthetic-data"]) == 0
    env = {
        "PLAYERSEG_MODELS": f"test-sam3,test-sam2.1-tiny-128,{SAM3_AUTOLABELER}",
        "PLAYERSEG_MODELS_DIR": str(models),
    }
    with serve_app(root / "work", root / "server.log", **env) as url:
        yield url, data, root / "work"


def test_a_unet_folder_and_sam3_run_side_by_side(setup: tuple[str, Path, Path]) -> None:
    url, data, work = setup
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        open_app(page, url)
        upload_and_click_players(page, data, "seq000", WIDTH, HEIGHT)
        open_tab(page, "2. Side by side")
        run_models(page, "unet:baseline", "test-sam3")  # picking fails when a dropdown does not offer the name
        facts = page.locator("#model-facts").inner_text()
        assert "Model A, unet:baseline" in facts and "U-Net baseline" in facts, facts
        status = page.locator("#run-status").inner_text()
        assert "unet:baseline was trained on synthetic footage only" in status and str(work.parent) not in status
        videos_ready(page, ["video-side-by-side", "video-a", "video-b", "video-disagreement"])
        wait_for_plots(page, ["#plot-disagreement"])
        page.screenshot(path=str(SHOTS / "contenders-run.png"), full_page=True)
        assert page.errors == []
    runs = sorted(work.glob("sessions/*/run-*"))
    assert len(runs) == 1, runs
    families = {label: json.loads((runs[0] / label / "run.json").read_text()) for label in ("A", "B")}
    assert (families["A"]["model"], families["A"]["family"]) == ("unet:baseline", "unet")
    assert (families["B"]["model"], families["B"]["family"]) == ("test-sam3", "sam3")
    assert "synthetic footage only" in families["A"]["weights"] and families["B"]["random_weights"] is True


def test_the_compare_endpoint_runs_sam3_as_autolabeler_against_the_unet(setup: tuple[str, Path, Path]) -> None:
    from gradio_client import Client, handle_file

    url, data, work = setup
    client = Client(url, verbose=False)
    video, prompts = handle_file(str(data / "videos" / "seq000.mp4")), (data / "prompts" / "seq000.json").read_text()
    _, _, summary = client.predict(
        video=video, prompts=prompts, model_a=SAM3_AUTOLABELER, model_b="unet:baseline", api_name="/compare"
    )
    a, b = summary["models"]["A"], summary["models"]["B"]
    assert a["ok"] and b["ok"], (a["error"], b["error"])
    assert (a["name"], a["random_weights"]) == (SAM3_AUTOLABELER, True)
    assert b["display_name"] == "B: unet:baseline" and str(work.parent) not in json.dumps(summary)
    with pytest.raises(Exception, match="not offered here") as refused:
        client.predict(video=video, prompts=prompts, model_a="nothing", model_b="unet:baseline", api_name="/compare")
    assert "unet:baseline" in str(refused.value) and str(work.parent) not in str(refused.value)
