"""What the server keeps on disk and for how long: Gradio's cache under WORK_DIR/uploads, the sweeper thread that
deletes old API results, uploads and idle sessions, and a closed browser tab's session folder."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

from playerseg.ui.api import API_FOLDER
from playerseg.ui.config import AppConfig
from playerseg.ui.public import clear_leftovers, sweep, upload_folder
from playerseg.ui.session import Session

SESSIONS_FOLDER = "sessions"  # one folder per browser tab, deleted with the tab's state
UPLOADS_FOLDER = "uploads"  # Gradio's cache (GRADIO_TEMP_DIR) when app.py sets it
SWEPT_FOLDERS = (API_FOLDER, SESSIONS_FOLDER, UPLOADS_FOLDER)
SESSION_IDLE_S = 24 * 3600  # a session folder whose tab never said goodbye


def prepare_work_dir(config: AppConfig) -> None:
    """The work folder exists, Gradio's cache points into it, and what a killed process left there is gone. Call it
    before any Blocks exists: Gradio reads GRADIO_TEMP_DIR when it builds them."""
    Path(config.work_dir).mkdir(parents=True, exist_ok=True)
    keep_uploads_in_work_dir(config)
    clear_leftovers(*(Path(config.work_dir) / name for name in SWEPT_FOLDERS))  # a killed process's runs and uploads


def keep_uploads_in_work_dir(config: AppConfig) -> None:
    """Gradio's upload and output cache goes to WORK_DIR/uploads (unless GRADIO_TEMP_DIR is set), where the sweeper
    deletes old files and a restart clears what a killed process left. Never left to Gradio's default, the machine's
    shared <tmp>/gradio, which the sweeper must not touch."""
    os.environ.setdefault("GRADIO_TEMP_DIR", str(Path(config.work_dir).resolve() / UPLOADS_FOLDER))


def start_sweeper(config: AppConfig) -> threading.Thread:
    """A daemon thread that deletes API results and uploads older than PLAYERSEG_RESULT_TTL_S, and sessions idle for
    a day (a closed tab's session is deleted at once), a few times per TTL."""
    root = Path(config.work_dir)
    ttl = config.result_ttl_s
    ages = {root / API_FOLDER: ttl, upload_folder(): ttl, root / SESSIONS_FOLDER: max(ttl, SESSION_IDLE_S)}
    period = max(1.0, min(60.0, ttl / 4))
    thread = threading.Thread(target=_sweep_forever, args=(ages, period), name="playerseg-sweeper", daemon=True)
    thread.start()
    return thread


def _sweep_forever(ages: dict[Path, float], period: float) -> None:
    while True:
        for folder, age in ages.items():
            sweep(folder, age)
        time.sleep(period)


def forget_session(session: Session, root: str) -> None:
    """A closed browser tab's runs are deleted with its state (the gr.State's delete_callback)."""
    shutil.rmtree(Path(root) / SESSIONS_FOLDER / session.session_id, ignore_errors=True)
