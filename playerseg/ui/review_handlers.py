"""Tab 9's handlers, testable without a browser: start a review of model A's or B's masks, move through the frames
(the models' worst disagreements first), fix an object with clicks (each click shows a preview: one SAM2 decoder call),
track it again from the fix, rename and delete objects, and add the clip to the dataset (and download it). Each
returns the Session and what the tab shows next; a request the app refuses raises a gr.Error of one sentence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import gradio as gr
import numpy as np
import pandas as pd

from playerseg.annotate.preview import MaskPreview, PreviewError
from playerseg.annotate.ranking import disagreement_ranking
from playerseg.annotate.retrack import read_run_frame
from playerseg.annotate.review import BOX, NEGATIVE, POSITIVE, Review, ReviewError
from playerseg.autolabel.labeler import parse_autolabel_name
from playerseg.compare.pool import ModelPool
from playerseg.dataset.export import sequence_name
from playerseg.dataset.listing import list_sequences, zip_dataset
from playerseg.errors import PlayerSegError
from playerseg.tracking.registry import ModelUnavailableError
from playerseg.ui.config import AppConfig
from playerseg.ui.frames import read_frame
from playerseg.ui.public import holding, public_message
from playerseg.ui.review_view import review_image, review_scale
from playerseg.ui.session import Session

CLICK_KINDS = {"Positive click": POSITIVE, "Negative click": NEGATIVE, "Box (two corner clicks)": BOX}
OBJECT_COLUMNS = ["id", "name", "frames with a mask", "frames fixed"]
SEQUENCE_COLUMNS = ["sequence", "frames", "objects", "frames fixed", "clicks", "model", "source clip"]
Update = dict[str, Any]
Retrack = Callable[..., dict[int, np.ndarray]]


class ReviewReply(NamedTuple):
    """[state, frame slider, image, object dropdown, objects table, status]"""

    session: Session
    frame: gr.Slider | Update
    image: np.ndarray | None | Update
    object_id: gr.Dropdown | Update
    objects: pd.DataFrame | Update
    status: str | Update  # unchanged when only the frame moved


class DatasetReply(NamedTuple):
    """[state, sequences table, sequence name, status]"""

    session: Session
    sequences: pd.DataFrame
    name: str | Update
    status: str


@dataclass(frozen=True)
class ReviewHandlers:
    """The review tab's handlers with what they need: settings, the model pool, and the (GPU-wrapped) preview and
    re-tracking calls."""

    config: AppConfig
    pool: ModelPool
    preview_fn: Callable[..., Any]  # (MaskPreview, key, rgb, points, box, prior) -> PreviewMask
    retrack_fn: Retrack

    def on_start(self, session: Session, label: str | None) -> ReviewReply:
        comparison = session.comparison
        outcome = next((o for o in comparison.outcomes if o.label == label), None) if comparison else None
        if comparison is None or outcome is None:
            raise gr.Error("Run the models first (tab 2), then pick the model whose masks to keep.")
        if not outcome.ok or outcome.run_dir is None:
            raise gr.Error(f"Model {outcome.label} failed on this clip: keep the other model's masks.")
        clip = session.require_clip()
        selection = comparison.selection
        frames = [selection.first_frame + i * selection.stride for i in range(selection.frames)]
        autolabeler = parse_autolabel_name(outcome.name)
        tracker = outcome.name if autolabeler is None else autolabeler.tracker  # autolabel:sam3 -> SAM 3's tracker
        folder = session.work_dir(self.config.work_dir) / "review"
        try:
            session.review = Review.start(
                outcome.run_dir, folder, clip.path, outcome.label, outcome.name, tracker,
                disagreement_ranking(comparison.agreement, frames),
            )  # fmt: skip
        except (ReviewError, PlayerSegError, OSError, ValueError) as error:
            raise gr.Error(public_message(str(error))) from None
        session.previewer = None
        review = session.review
        first = review.ranking[0].index if review.ranking else 0
        message = (
            f"Reviewing model {outcome.display_name}'s masks: {plural(len(review.objects), 'object')} on "
            f"{plural(review.frame_count, 'frame')}. Pick an object, click where its mask is wrong, check the "
            "preview, then press Track again."
        )
        return self._reply(session, first, message, slider=True)

    def on_frame(self, session: Session, frame: float, choice: str | None) -> ReviewReply:
        if session.review is None:
            return ReviewReply(session, gr.update(), gr.update(), gr.update(), gr.update(), gr.update())
        review = session.review
        return self._reply(session, self._index(review, frame), gr.update(), selected=choice)

    def on_next_disagreement(self, session: Session, choice: str | None) -> ReviewReply:
        review = self._review(session)
        try:
            ranked = review.next_disagreement()
        except ReviewError as error:
            raise gr.Error(str(error)) from None
        position = review.cursor + 1
        message = (
            f"Disagreement {position} of {len(review.ranking)}: frame {ranked.frame}, where the models' masks "
            f"overlap {ranked.iou:.0%} (IoU)."
        )
        return self._reply(session, ranked.index, message, slider=True, selected=choice)

    def on_click(self, session: Session, frame: float, kind: str, choice: str, evt: gr.SelectData) -> ReviewReply:
        """A click on the frame (evt.index: x, y in shown pixels) adds to the fix and shows its preview."""
        review = self._review(session)
        index = self._index(review, frame)
        clip = review.facts.clip
        scale = review_scale(clip.width, clip.height)
        try:
            message = review.click(index, _object(choice), evt.index[0] / scale, evt.index[1] / scale, _kind(kind))
            pending = review.require_pending()
            if pending.corner is None:
                self._preview(session, review)
                message += f" Preview score {pending.score:.2f}."
        except (ReviewError, PreviewError, ModelUnavailableError) as error:
            raise gr.Error(public_message(str(error))) from None
        return self._reply(session, index, message)

    def on_accept(self, session: Session, frame: float) -> ReviewReply:
        """The preview becomes the object's mask on this frame; the object is tracked again from all its fixes."""
        review = self._review(session)
        clip = session.require_clip()
        try:
            object_id, fixes = review.accept()
            model = self.pool.get(review.tracker)
            with holding(clip.path):
                masks = self.retrack_fn(
                    model, clip.path, review.facts.selection, object_id, review.clicks_of(object_id), fixes
                )
            index = review.require_pending().index
            changed = review.apply_track(object_id, masks)
        except (ReviewError, ModelUnavailableError, ValueError, RuntimeError) as error:
            raise gr.Error(public_message(str(error))) from None
        message = f"Object {object_id} tracked again from its fixes: its masks changed on {plural(changed, 'frame')}."
        return self._reply(session, index, message, selected=str(object_id))

    def on_discard(self, session: Session, frame: float) -> ReviewReply:
        review = self._review(session)
        selected = str(review.pending.object_id) if review.pending is not None else None
        review.discard()
        message = "The clicks of this fix were discarded."
        return self._reply(session, self._index(review, frame), message, selected=selected)

    def on_rename(self, session: Session, choice: str, name: str, frame: float) -> ReviewReply:
        review = self._review(session)
        try:
            message = review.rename(_object(choice), name)
        except ReviewError as error:
            raise gr.Error(str(error)) from None
        return self._reply(session, self._index(review, frame), message, selected=str(choice))

    def on_delete(self, session: Session, choice: str, frame: float) -> ReviewReply:
        review = self._review(session)
        try:
            message = review.delete(_object(choice))
        except ReviewError as error:
            raise gr.Error(str(error)) from None
        return self._reply(session, self._index(review, frame), message)

    def on_save(self, session: Session, name: str) -> DatasetReply:
        """The reviewed masks and the clip's processed frames as one sequence of the dataset (replacing a sequence
        of the same name whole)."""
        from playerseg.dataset.export import export_run
        from playerseg.dataset.sequence_writer import sequence_exists

        review = self._review(session)
        clip = session.require_clip()
        seq = sequence_name("example" if clip.is_example else clip.name, name.strip() if name else None)
        existed = sequence_exists(self.config.dataset_dir, seq)
        try:
            with holding(clip.path):
                export_run(review.folder, clip.path, self.config.dataset_dir, seq, overwrite=True)
        except (PlayerSegError, OSError, ValueError) as error:
            raise gr.Error(public_message(f"Cannot add the clip to the dataset: {error}")) from None
        facts = review.review_facts()
        message = (
            f"{'Replaced' if existed else 'Added'} sequence **{seq}**: {review.frame_count} frames, "
            f"{plural(len(review.objects), 'object')}, {plural(facts.frames_fixed, 'frame')} fixed with "
            f"{plural(facts.clicks, 'click')}."
        )
        return DatasetReply(session, self.sequences_table(), seq, message)

    def on_download(self, session: Session) -> gr.File:
        """The whole dataset as one zip, shown as a file to download."""
        try:
            path = zip_dataset(self.config.dataset_dir, session.work_dir(self.config.work_dir) / "dataset.zip")
            return gr.File(value=str(path), visible=True)
        except (PlayerSegError, OSError) as error:
            raise gr.Error(public_message(str(error))) from None

    def sequences_table(self) -> pd.DataFrame:
        try:
            rows = list_sequences(self.config.dataset_dir)
        except PlayerSegError as error:
            gr.Warning(public_message(str(error)))
            rows = []
        values = [[r.name, r.frames, r.objects, r.frames_fixed, r.clicks, r.model, r.source_clip] for r in rows]
        return pd.DataFrame(values, columns=SEQUENCE_COLUMNS)

    # -- helpers -----------------------------------------------------------------------------------------------

    def _preview(self, session: Session, review: Review) -> None:
        pending = review.require_pending()
        if session.previewer is None or session.previewer_model != review.tracker:
            session.previewer = MaskPreview(self.pool.get(review.tracker))
            session.previewer_model = review.tracker
        clip = session.require_clip()
        with holding(clip.path):
            rgb = read_run_frame(clip.path, review.facts.selection, pending.index)
        points, box, prior = review.preview_inputs()
        found = self.preview_fn(session.previewer, (pending.index,), rgb, points, box, prior)
        review.set_preview(found.mask, found.score)

    def _review(self, session: Session) -> Review:
        if session.review is None:
            raise gr.Error("Start the review first: pick model A or B and press Start the review.")
        return session.review

    def _index(self, review: Review, frame: float) -> int:
        selection = review.facts.selection
        index = round((int(frame) - selection.first_frame) / selection.stride)
        return min(max(index, 0), selection.frames - 1)

    def _reply(
        self, session: Session, index: int, message: str | Update, slider: bool = False, selected: str | None = None
    ) -> ReviewReply:
        review = self._review(session)
        frame = review.frame_of(index)
        clip = session.require_clip()
        with holding(clip.path):
            rgb = read_frame(clip.path, frame)
        pending = review.pending if review.pending is not None and review.pending.index == index else None
        image = review_image(rgb, review.label_map(index), pending)
        selection = review.facts.selection
        frame_value: gr.Slider | Update = gr.update(value=frame)
        if slider:
            frame_value = gr.Slider(
                minimum=selection.first_frame, maximum=max(selection.last_frame, selection.first_frame + 1),
                value=frame, step=selection.stride,
            )  # fmt: skip
        choices = [str(object_id) for object_id in review.objects]
        rows = [[r.object_id, r.name, r.frames_visible, r.frames_fixed] for r in review.object_rows()]
        current = str(review.pending.object_id) if review.pending is not None else selected
        dropdown = gr.Dropdown(choices=choices, value=current if current in choices else choices[0])
        return ReviewReply(session, frame_value, image, dropdown, pd.DataFrame(rows, columns=OBJECT_COLUMNS), message)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _object(choice: str | None) -> int:
    try:
        return int(str(choice))
    except ValueError:
        raise gr.Error("Pick the object to fix in the Object list.") from None


def _kind(kind: str) -> str:
    if kind not in CLICK_KINDS:
        raise gr.Error(f"Pick what a click adds: {', '.join(CLICK_KINDS)}.")
    return CLICK_KINDS[kind]
