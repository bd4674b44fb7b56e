"""Hub names load from a Hugging Face cache with no network: `sam2.1-tiny` and `grounding-dino-tiny`.

Each test lays out a cache as huggingface_hub writes one (HF_HOME/hub/models--ORG--NAME/refs/main holding a commit
id, snapshots/<commit>/ holding the files) under the repo id and file names the registry asks for, with weights of
the REAL architecture drawn at random by the library's own builder (no real weights exist on these machines). A
fresh Python process then loads the model by its registry name with HF_HUB_OFFLINE=1 and runs one frame, as a user's
`segment` / `autolabel` would after `huggingface-cli download`. The child prints what it loaded; the weights are
checked to be the file's (a weight sum), not the builder's own random ones.

Measured on a shared 2-core machine (one thread, load ~4): SAM 2.1 tiny (a 156 MB checkpoint, one 1024 px frame)
23 s; Grounding DINO tiny (a 690 MB checkpoint, one frame resized to 313x176) 29 s, half of it building and saving.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch

from playerseg.tracking.registry import SAM2_CONFIGS, SAM2_HUB_FILES, file_sha256, get_spec
from tests.conftest import REPO_ROOT

COMMIT = "4a0b6f6c1e1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"  # any 40-hex commit id: what refs/main points at
# The real processor resizes frames to 800 px (short side), ~20 s a frame for this model on 2 busy cores. The
# smallest resize that still works: the real model picks its 900 queries among the multi-scale feature tokens
# (~H*W/48 of them), so a frame must give at least 900 (176x313: 1175 tokens; test-gdino-tiny's 128x224 would not).
SMALL_RESIZE = {"shortest_edge": 176, "longest_edge": 320}
# cache locations that would take precedence over HF_HOME in the child
HUB_CACHE_VARIABLES = ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_XET_CACHE", "HF_ASSETS_CACHE")


def hub_snapshot(hf_home: Path, repo_id: str) -> Path:
    """The snapshot folder of `repo_id` at COMMIT in the cache under hf_home, with refs/main pointing at it."""
    repo_dir = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    (repo_dir / "refs").mkdir(parents=True)
    (repo_dir / "refs" / "main").write_text(COMMIT)
    snapshot = repo_dir / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    return snapshot


def run_offline(code: str, hf_home: Path) -> dict:
    """Run `code` in a fresh interpreter that can reach no hub and sees only hf_home's cache; its last stdout line
    is JSON."""
    env = {key: value for key, value in os.environ.items() if key not in HUB_CACHE_VARIABLES}
    env.update(HF_HOME=str(hf_home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def weight_sum(state_dict: dict[str, torch.Tensor]) -> float:
    """A fingerprint of a model's weights (the child computes the same over what it loaded)."""
    return float(sum(tensor.sum(dtype=torch.float64) for tensor in state_dict.values() if tensor.is_floating_point()))


def test_sam2_1_tiny_loads_from_the_hub_cache_offline_and_tracks_a_frame(tmp_path: Path) -> None:
    from sam2.build_sam import build_sam2_video_predictor

    spec = get_spec("sam2.1-tiny")
    assert (spec.hf_repo, spec.hf_filename) == ("facebook/sam2.1-hiera-tiny", SAM2_HUB_FILES["tiny"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)  # not the seed the registry builds under: loaded weights must come from the file
        stock = build_sam2_video_predictor(SAM2_CONFIGS["tiny"], ckpt_path=None, device="cpu")
    state_dict = stock.state_dict()
    hf_home = tmp_path / "hf"
    checkpoint = hub_snapshot(hf_home, "facebook/sam2.1-hiera-tiny") / "sam2.1_hiera_tiny.pt"
    torch.save({"model": state_dict}, checkpoint)  # the layout of the published checkpoint

    child = run_offline(
        """
        import json
        import numpy as np
        import torch
        from playerseg.io.prompts import Prompt
        from playerseg.tracking.registry import load_video_model
        from playerseg.tracking.tracker import Sam2VideoTracker

        class OneFrame(list):
            width, height = 96, 64

        frame = np.zeros((64, 96, 3), np.uint8)
        frame[..., 1] = 120
        frame[20:44, 30:60] = (200, 30, 30)
        model = load_video_model("sam2.1-tiny", "cpu")
        with Sam2VideoTracker(model, OneFrame([frame])) as tracker:
            tracker.add_prompt(Prompt.from_click(0, 1, 45, 32))
            results = list(tracker.track())
        weights = model.predictor.state_dict().values()
        probe = float(sum(t.sum(dtype=torch.float64) for t in weights if t.is_floating_point()))
        masks = {r.frame: list(r.masks[1].shape) for r in results}
        print(json.dumps({"facts": model.describe(), "masks": masks, "probe": probe}))
        """,
        hf_home,
    )

    facts = child["facts"]
    assert facts["model"] == "sam2.1-tiny" and facts["source"] == "hub" and facts["image_size"] == 1024
    assert Path(facts["checkpoint"]).resolve() == checkpoint.resolve()
    assert facts["checkpoint_sha256"] == file_sha256(checkpoint)
    assert facts["random_weights"] is False and facts["weights"] == "trained"
    assert child["probe"] == pytest.approx(weight_sum(state_dict), rel=1e-9)
    assert child["masks"] == {"0": [64, 96]}


def grounding_dino_tiny_config() -> Any:  # transformers.GroundingDinoConfig
    """IDEA-Research/grounding-dino-tiny's architecture as transformers' conversion of it spells it: a Swin-T
    backbone (window 7, 224 px, embed 96, depths 2-2-6-2, heads 3-6-12-24, stages 2-4) and a bert-base-uncased
    text encoder; GroundingDinoConfig's defaults are that model (checked here)."""
    from transformers import BertConfig, GroundingDinoConfig, SwinConfig

    backbone = SwinConfig(
        window_size=7,
        image_size=224,
        embed_dim=96,
        depths=[2, 2, 6, 2],
        num_heads=[3, 6, 12, 24],
        out_indices=[2, 3, 4],
    )
    config = GroundingDinoConfig(backbone_config=backbone, text_config=BertConfig())
    defaults = GroundingDinoConfig()
    assert config.backbone_config.to_dict() == defaults.backbone_config.to_dict()
    assert config.text_config.to_dict() == defaults.text_config.to_dict()
    assert (config.d_model, config.num_queries, config.encoder_layers, config.decoder_layers) == (256, 900, 6, 6)
    return config


def test_grounding_dino_tiny_loads_from_the_hub_cache_offline_and_detects_on_a_frame(tmp_path: Path) -> None:
    from transformers import (
        BertTokenizer,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessor,
        GroundingDinoProcessor,
    )

    from playerseg.autolabel.detector import build_test_vocabulary, get_detector_spec

    assert get_detector_spec("grounding-dino-tiny").hf_repo == "IDEA-Research/grounding-dino-tiny"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        model = GroundingDinoForObjectDetection(grounding_dino_tiny_config())
    # the processor built offline the way test-gdino-tiny builds one: a tokenizer over a generated vocabulary (BERT's
    # special and separator tokens at BERT's ids) and a small resize (SMALL_RESIZE) in place of the repo's 800/1333
    processor = GroundingDinoProcessor(
        image_processor=GroundingDinoImageProcessor(size=dict(SMALL_RESIZE)),
        tokenizer=BertTokenizer(vocab=build_test_vocabulary()),
    )
    hf_home = tmp_path / "hf"
    snapshot = hub_snapshot(hf_home, "IDEA-Research/grounding-dino-tiny")
    model.save_pretrained(snapshot)
    processor.save_pretrained(snapshot)
    expected_probe = weight_sum(model.state_dict())
    del model

    child = run_offline(
        """
        import json
        import numpy as np
        import torch
        from playerseg.autolabel.detector import load_detector

        detector = load_detector("grounding-dino-tiny", device="cpu")
        frame = np.zeros((36, 64, 3), np.uint8)
        frame[..., 1] = 120
        frame[8:30, 20:28] = (230, 230, 230)
        detections = detector.detect(frame, "person.", box_threshold=0.0)
        weights = detector._model.state_dict().values()
        probe = float(sum(t.sum(dtype=torch.float64) for t in weights if t.is_floating_point()))
        boxes_inside = all(0 <= d.box[0] < d.box[2] <= 64 and 0 <= d.box[1] < d.box[3] <= 36 for d in detections)
        print(json.dumps({"facts": detector.describe(), "detections": len(detections),
                          "labels": sorted({d.label for d in detections}), "boxes_inside": boxes_inside,
                          "probe": probe}))
        """,
        hf_home,
    )

    facts = child["facts"]
    assert facts["detector"] == "grounding-dino-tiny" and facts["source"] == "hub"
    assert facts["hf_repo"] == "IDEA-Research/grounding-dino-tiny"
    assert facts["random_weights"] is False and facts["weights"] == "trained"
    assert facts["image_size"] == SMALL_RESIZE  # the cached processor's, not a default one
    assert child["probe"] == pytest.approx(expected_probe, rel=1e-9)
    assert child["detections"] > 0 and child["labels"] == ["person"] and child["boxes_inside"]
