"""Reaching Ray for the Ray engine: the cluster at --address, or a Ray started on this machine for one run, its
workers set to run torch on one thread; each way it fails (Ray missing, nothing listening, a token asked for) said in
one sentence instead of a traceback or a wait of many minutes."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from typing import Any

from playerseg.compare.failures import one_line
from playerseg.evaluate.job import EvaluateError

INSTALL_HINT = "--engine ray needs Ray: pip install '.[cluster]' (or pip install ray==2.60.0)."
THREADS_PER_PAIR = 1  # each task holds one CPU of Ray's count, so it runs torch (OpenMP, MKL) on one thread
THREAD_ENV = {f"{lib}_NUM_THREADS": str(THREADS_PER_PAIR) for lib in ("OMP", "MKL", "OPENBLAS")}
REACH_S = 10.0  # a head that does not accept a connection in this long is not there (ray.init retries ~15 min)


def import_ray() -> Any:
    """The ray module, or EvaluateError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise EvaluateError(INSTALL_HINT) from None
    return ray


def connect(ray: Any, address: str | None, workers: int | None, quiet: bool) -> bool:
    """Connect to the cluster at `address`, or start a Ray here with `workers` CPUs (default: this machine's);
    False when this process was connected already (then the caller's Ray is left as it is)."""
    if ray.is_initialized():
        return False
    if address:
        check_reachable(address)
    options: dict[str, Any] = {
        "runtime_env": {"env_vars": THREAD_ENV},  # every worker of this job, before it imports torch
        "logging_level": logging.ERROR if quiet else logging.WARNING,
        "log_to_driver": not quiet,
    }
    if not address:  # "local": always a new Ray for this run, never one that happens to run on this machine
        options.update(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False)
    sigterm = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
    try:
        ray.init(address=address or "local", **options)
    except (ConnectionError, RuntimeError, TimeoutError, ValueError) as error:
        raise EvaluateError(connect_failure(address, error)) from error
    finally:
        if sigterm is not None:  # ray.init makes SIGTERM exit at once: the CLI's handler stops like Ctrl-C
            signal.signal(signal.SIGTERM, sigterm)
    return True


def check_reachable(address: str) -> None:
    """Fail in seconds where nothing accepts a connection at a host:port (or ray://host:port) address."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():  # "auto" and the like: Ray resolves them itself
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_S).close()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise EvaluateError(f"Nothing answers at --address {address} ({reason}): is the Ray head running?") from None


def connect_failure(address: str | None, error: BaseException) -> str:
    """ray.init's failure in one sentence."""
    where = f"the Ray cluster at {address}" if address else "a local Ray"
    if any("InvalidAuthToken" in str(e) for e in (error, error.__cause__)):  # Ray wraps the AuthenticationError
        return f"Could not reach {where}: it asks for a token (set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN as on it)."
    return f"Could not start or reach {where}: {one_line(error)}."
