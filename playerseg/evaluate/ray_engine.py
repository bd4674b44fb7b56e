"""The Ray engine: each (model, sequence) pair is a Ray task (one GPU where the cluster has GPUs, else one CPU; torch
on one thread), at most --workers at once, on the cluster at --address or on a Ray started here. A worker process
loads a model once for the pairs that follow and writes each run folder into OUT itself (OUT and the dataset: shared
storage, same paths everywhere); this process records each PairOutcome as it arrives, under a tqdm bar. A worker
that dies becomes the pair's one-sentence failure; Ctrl-C or SIGTERM stops the pairs still out."""

from __future__ import annotations

import glob
import os
import shutil
import sys
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evaluation.leaderboard.manifest import pair_folder
from playerseg.evaluate.job import EvaluateError
from playerseg.evaluate.pair import PairOutcome, PairTask, failure_reason, record_failure, run_pair
from playerseg.evaluate.ray_cluster import THREADS_PER_PAIR, connect, import_ray

if TYPE_CHECKING:
    from playerseg.compare.pool import ModelPool

OnDone = Callable[[PairOutcome], None]
NOT_SHARED = (
    "A Ray worker wrote a run folder into {out} that this machine cannot see: --out and --data must be on storage "
    "every worker shares, at the same paths."
)

# A Ray worker process's models: device -> (model name, its pool); only _run_in_worker uses it. Ray gives a worker
# process to one job (one driver) and runs its tasks one at a time: nothing here is shared between users or runs, no
# lock is needed, and a model loads once per worker, not per pair. Only the current model is held (as locally).
_WORKER_POOLS: dict[str, tuple[str, ModelPool]] = {}


def run_ray(
    tasks: Sequence[PairTask],
    on_done: OnDone,
    address: str | None = None,
    workers: int | None = None,
    device: str | None = None,
    quiet: bool = False,
) -> None:
    """Run every task on Ray; `on_done` receives each outcome, in this process, as soon as its pair is recorded."""
    ray = import_ray()
    if not tasks:  # every pair finished earlier: no Ray to start
        return
    started, running = connect(ray, address, workers, quiet), {}
    try:
        _run_all(ray, list(tasks), running, on_done, workers, device, quiet)
    except BaseException:  # Ctrl-C, SIGTERM, OUT not shared: the pairs still out stop too
        if not started:  # the caller's Ray: cancel them (a running one gets KeyboardInterrupt)
            _cancel(ray, running)
        raise
    finally:
        if started:  # a Ray started here stops; a cluster at --address ends this job, which stops its workers
            ray.shutdown()  # (no ray.cancel: it can crash the driver when a pair finishes meanwhile, Ray 2.60)
        for task in running.values():
            _remove_partials(task)  # what the stopped pairs were writing (a rerun removes any left over)


def _run_all(
    ray: Any,
    tasks: list[PairTask],
    running: dict[Any, PairTask],
    on_done: OnDone,
    workers: int | None,
    device: str | None,
    quiet: bool,
) -> None:
    """Keep at most `workers` pairs in flight (all when None: Ray queues them by resources); `running`: those out."""
    from tqdm import tqdm

    remote = ray.remote(_run_in_worker).options(max_retries=0, **_resources(ray, device))
    queue, limit = deque(tasks), workers or max(1, len(tasks))
    with tqdm(total=len(tasks), desc="pairs", unit="pair", file=sys.stderr, disable=quiet) as bar:
        while queue or running:
            while queue and len(running) < limit:
                task = queue.popleft()
                running[remote.remote(task, device, THREADS_PER_PAIR)] = task
            finished, _ = ray.wait(list(running), num_returns=1)
            for ref in finished:
                on_done(_outcome(ray, ref, running[ref]))
                task = running.pop(ref)
                bar.set_postfix_str(f"{task.model} / {task.sequence}")
                bar.update(1)


def _resources(ray: Any, device: str | None) -> dict[str, float]:
    """One GPU per pair where the cluster has GPUs (unless --device cpu), else one CPU."""
    gpus = device != "cpu" and ray.cluster_resources().get("GPU", 0) > 0
    return {"num_gpus": 1} if gpus else {"num_cpus": 1}


def _run_in_worker(task: PairTask, device: str | None, threads: int) -> PairOutcome:
    """The Ray task: one pair in a worker process, with that process's model pool."""
    import torch

    torch.set_num_threads(threads)
    return run_pair(task, _worker_pool(task.model, device))


def _worker_pool(model: str, device: str | None) -> ModelPool:
    from playerseg.compare.pool import ModelPool

    held = _WORKER_POOLS.get(device or "")
    if held is None or held[0] != model:
        _WORKER_POOLS.pop(device or "", None)  # the previous model goes before the next one loads
        held = _WORKER_POOLS[device or ""] = (model, ModelPool(device))
    return held[1]


def _outcome(ray: Any, ref: Any, task: PairTask) -> PairOutcome:
    """The pair's outcome from its worker, or its failure when the worker died or the task raised."""
    try:
        outcome = ray.get(ref)
    except ray.exceptions.RayError as error:
        _remove_partials(task)
        return PairOutcome(record_failure(task, _crash_reason(ray, task, error)), None)
    if not pair_folder(task.out, task.model, task.sequence).is_dir():
        raise EvaluateError(NOT_SHARED.format(out=task.out))
    return outcome


def _crash_reason(ray: Any, task: PairTask, error: BaseException) -> str:
    who = f"{task.model} on {task.sequence}"
    if isinstance(error, ray.exceptions.RayTaskError):  # raised past run_pair's own handling: say what it was
        return failure_reason(task, getattr(error, "cause", None) or error)
    if isinstance(error, ray.exceptions.OutOfMemoryError):  # Ray's memory monitor killed the worker
        return f"{who} ran out of memory: Ray stopped its worker; try fewer --workers or bigger machines."
    return f"{who}: its Ray worker died before finishing ({type(error).__name__}); rerun to try it again."


def _remove_partials(task: PairTask) -> Path:
    """Remove the hidden folders run_pair writes a pair into (`.<seq>.partial-<pid>`); the pair's folder."""
    final = pair_folder(task.out, task.model, task.sequence)
    for leftover in glob.glob(os.path.join(glob.escape(str(final.parent)), f".{glob.escape(final.name)}.partial-*")):
        shutil.rmtree(leftover, ignore_errors=True)
    return final


def _cancel(ray: Any, running: dict[Any, PairTask]) -> None:
    """Cancel the pairs still out: a running one gets KeyboardInterrupt, so run_pair removes its staging folder."""
    for ref in running:
        ray.cancel(ref)
    if running:  # give them time to remove their half-written folders
        ray.wait(list(running), num_returns=len(running), timeout=30.0)
