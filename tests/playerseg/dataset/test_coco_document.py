"""The sequence's COCO json, built from each object's box columns only, equals the plain reckoning over the whole
frame (evaluation's `encode_mask`, `bbox_from_mask`, the pixel count) on objects at every edge and corner."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.coco_rle import encode_mask
from playerseg.dataset.sequence_writer import coco_document
from playerseg.io.masks import bbox_from_mask

H, W = 13, 9


def label_maps() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    maps = [rng.integers(0, 4, (H, W), dtype=np.uint8) for _ in range(20)]
    maps.append(np.full((H, W), 3, dtype=np.uint8))  # one object, the whole frame
    maps.append(np.zeros((H, W), dtype=np.uint8))  # nobody
    corners = np.zeros((H, W), dtype=np.uint8)
    corners[0, 0], corners[H - 1, 0], corners[0, W - 1], corners[H - 1, W - 1] = 1, 2, 3, 4
    maps.append(corners)
    edges = np.zeros((H, W), dtype=np.uint8)
    edges[:, W - 1], edges[H - 1, : W - 1], edges[4:6, 3:5] = 7, 9, 254  # last column, bottom row, one block
    maps.append(edges)
    wrap = np.zeros((H, W), dtype=np.uint8)
    wrap[H - 2 :, 2], wrap[:3, 3] = 5, 5  # a run down one column that continues at the top of the next
    maps.append(wrap)
    return maps


def plain(labels: np.ndarray) -> list[dict[str, object]]:
    rows = []
    for object_id in (int(value) for value in np.unique(labels) if value != 0):
        mask = labels == object_id
        x0, y0, x1, y1 = bbox_from_mask(mask)
        rows.append(
            {
                "track_id": object_id,
                "area": int(mask.sum()),
                "bbox": [x0, y0, x1 - x0, y1 - y0],
                "counts": encode_mask(mask),
            }
        )
    return rows


@pytest.mark.parametrize("index", range(len(label_maps())))
def test_each_annotation_is_the_whole_frame_reckoning(index: int) -> None:
    labels = label_maps()[index]
    document = coco_document("s", {0: labels})
    got = [
        {key: annotation[key] for key in ("track_id", "area", "bbox")}
        | {"counts": annotation["segmentation"]["counts"]}
        for annotation in document["annotations"]
    ]
    assert got == plain(labels)
    assert all(annotation["segmentation"]["size"] == [H, W] for annotation in document["annotations"])
    assert [annotation["id"] for annotation in document["annotations"]] == list(range(1, len(got) + 1))
