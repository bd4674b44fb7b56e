"""The local engine: the pairs one after another in this process, grouped by model so each model loads once and
is let go before the next one loads; a tqdm bar over the pairs and one over each pair's frames."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from evaluation.leaderboard.rows import PairFailure
from playerseg.compare.pool import ModelPool
from playerseg.evaluate.pair import PairOutcome, PairTask, record_failure, run_pair, unavailable_reason
from playerseg.progress_bars import ProgressBar

OnDone = Callable[[PairOutcome], None]


def run_local(tasks: Sequence[PairTask], on_done: OnDone, device: str | None = None, quiet: bool = False) -> None:
    """Run every task; `on_done` receives each outcome as soon as its pair is recorded."""
    from tqdm import tqdm

    pool: ModelPool | None = None
    current = None
    unavailable: dict[str, str] = {}  # model -> the sentence its failed load gave
    ordered = sorted(tasks, key=lambda t: [t.model for t in tasks].index(t.model))  # stable: grouped by model
    with tqdm(total=len(ordered), desc="pairs", unit="pair", file=sys.stderr, disable=quiet) as pairs:
        for task in ordered:
            if task.model != current:
                pool, current = ModelPool(device), task.model  # the previous model's memory goes with its pool
            assert pool is not None
            pairs.set_postfix_str(f"{task.model} / {task.sequence}")
            if task.model in unavailable:  # loading it again would only fail again (and may wait on the network)
                failure = record_failure(task, unavailable_reason(task, unavailable[task.model]))
                outcome = PairOutcome(failure, None, 0.0, True)
            else:
                with ProgressBar(f"{task.sequence}", quiet) as bar:
                    outcome = run_pair(task, pool, bar.update)
                if outcome.model_unavailable and isinstance(outcome.result, PairFailure):
                    unavailable[task.model] = outcome.result.reason
            on_done(outcome)
            pairs.update(1)
