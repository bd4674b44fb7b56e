"""Output folders written whole or not at all: refusal, staging, overwrite, leftovers of killed runs, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evaluation import outdir
from evaluation.outdir import (
    OutputExistsError,
    Terminated,
    check_output_folder,
    identity,
    run_stoppable,
    sigterm_as_interrupt,
    staged_folder,
    stopped_message,
    write_file_atomically,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def old_run(folder: Path, frames: int = 30) -> Path:
    (folder / "masks").mkdir(parents=True)
    for frame in range(frames):
        (folder / "masks" / f"{frame:05d}.png").write_bytes(b"old")
    (folder / "run.json").write_text(f'{{"frames": {frames}}}')
    return folder


def siblings(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.parent.iterdir() if path.name.startswith(f".{folder.name}."))


def test_a_folder_holding_files_is_refused_without_overwrite(tmp_path: Path) -> None:
    out = old_run(tmp_path / "run")
    with pytest.raises(OutputExistsError, match=r"already holds files \(a previous run\?\); pass --overwrite"):
        with staged_folder(out):
            pytest.fail("the block must not run")
    assert len(list((out / "masks").iterdir())) == 30 and siblings(out) == []
    (tmp_path / "empty").mkdir()
    check_output_folder(tmp_path / "empty")  # an empty or missing folder is fine
    check_output_folder(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputExistsError, match="is a file"):
        check_output_folder(tmp_path / "file", overwrite=True)


def test_the_run_appears_only_when_complete(tmp_path: Path) -> None:
    out = tmp_path / "deeper" / "run"
    with staged_folder(out) as staged:
        (staged.work / "run.json").write_text("{}")
        assert not out.exists() and staged.work.parent == out.parent and staged.work.name.startswith(".run.partial-")
    assert (out / "run.json").read_text() == "{}" and siblings(out) == []


def test_a_failure_leaves_the_old_run_and_no_partial_folder(tmp_path: Path) -> None:
    out = old_run(tmp_path / "run")
    before = identity(out)
    with pytest.raises(RuntimeError, match="half way"):
        with staged_folder(out, overwrite=True) as staged:
            (staged.work / "run.json").write_text('{"frames": 12}')
            raise RuntimeError("half way")
    assert (out / "run.json").read_text() == '{"frames": 30}' and len(list((out / "masks").iterdir())) == 30
    assert siblings(out) == [] and identity(out) == before
    assert stopped_message(out, before) == f"Stopped: nothing was written to {out}."
    fresh = tmp_path / "fresh"
    with pytest.raises(KeyboardInterrupt):
        with staged_folder(fresh) as staged:
            (staged.work / "masks").mkdir()
            raise KeyboardInterrupt
    assert not fresh.exists() and siblings(fresh) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_overwrite_replaces_the_whole_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool) -> None:
    if not exchange:
        monkeypatch.setattr(outdir, "_exchange", lambda first, second: False)
    out = old_run(tmp_path / "run")
    before = identity(out)
    with staged_folder(out, overwrite=True) as staged:
        old_run(staged.work, frames=12)
    assert len(list((out / "masks").iterdir())) == 12 and (out / "run.json").read_text() == '{"frames": 12}'
    assert siblings(out) == [] and stopped_message(out, before) == f"Stopped after {out} was written."


def test_overwrite_never_deletes_an_input_of_the_run(tmp_path: Path) -> None:
    out = old_run(tmp_path / "run")
    with pytest.raises(OutputExistsError, match="an input of this run"):
        check_output_folder(out, overwrite=True, inputs=[str(out / "masks"), None, "test-sam2.1-tiny-128"])
    check_output_folder(out, overwrite=True, inputs=[str(tmp_path / "elsewhere.mp4"), "test-sam2.1-tiny-128"])


def test_leftovers_of_a_killed_run_are_removed_by_the_next_run(tmp_path: Path) -> None:
    out = old_run(tmp_path / "run")
    script = textwrap.dedent(
        f"""
        import os, signal
        from evaluation.outdir import staged_folder
        with staged_folder({str(out)!r}, overwrite=True) as staged:
            (staged.work / "masks").mkdir()
            (staged.work / "masks" / "00000.png").write_bytes(b"new")
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    [left] = siblings(out)
    assert left.startswith(".run.partial-") and (out.parent / left / "masks" / "00000.png").is_file()
    assert len(list((out / "masks").iterdir())) == 30  # the old run is intact
    with staged_folder(out, overwrite=True) as staged:
        assert siblings(out) == [staged.work.name]  # the killed run's folder is gone, only this run's is there
    assert siblings(out) == []


def test_a_run_killed_between_its_two_renames_gets_the_old_folder_back(tmp_path: Path) -> None:
    out = tmp_path / "run"
    aside = old_run(tmp_path / f".run.replaced-999999999-{outdir._host_tag()}-0011aabb")
    assert outdir.remove_stale_partials(out) == [aside]
    assert (out / "run.json").read_text() == '{"frames": 30}' and siblings(out) == []


def test_a_running_process_keeps_its_partial_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / f".run.partial-{sleeper.pid}-{outdir._host_tag()}-0011aabb"
        busy.mkdir()
        other_host = tmp_path / ".run.partial-999999999-00000000-0011aabb"
        other_host.mkdir()
        assert outdir.remove_stale_partials(out) == []
        assert busy.is_dir() and other_host.is_dir()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert outdir.remove_stale_partials(out) == [busy]


def test_write_file_atomically_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "bench.json"
    target.write_text("old")
    assert write_file_atomically(target, '{"new": 1}') == target
    assert target.read_text() == '{"new": 1}' and sorted(p.name for p in tmp_path.iterdir()) == ["bench.json"]


def test_sigterm_is_raised_like_ctrl_c_and_the_handler_restored() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated) as stopped:
        with sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs at the next bytecode
                pass
    assert isinstance(stopped.value, KeyboardInterrupt) and outdir.exit_code(stopped.value) == 143
    assert outdir.exit_code(KeyboardInterrupt()) == 130
    assert signal.getsignal(signal.SIGTERM) is previous


def test_sigterm_still_exits_143_when_a_library_re_raises_it_as_a_plain_ctrl_c() -> None:
    """Ray's waits catch the interrupt our handler raises and raise a new KeyboardInterrupt; what arrived was
    SIGTERM, so the exit code stays 143 (inside the block, where the CLIs compute it)."""
    codes = []
    with sigterm_as_interrupt():
        try:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(1000):
                    pass
            except Terminated:
                raise KeyboardInterrupt from None  # what the library does
        except KeyboardInterrupt as stop:
            assert not isinstance(stop, Terminated)
            codes.append(outdir.exit_code(stop))
    codes.append(outdir.exit_code(KeyboardInterrupt()))  # after the block: a Ctrl-C again
    assert codes == [143, 130]


def _interrupted(folder: Path | None = None, signum: int | None = None) -> int:
    """A command that writes `folder` (when given), then is stopped by Ctrl-C or by `signum` sent to itself."""
    if folder is not None:
        with staged_folder(folder) as staged:
            (staged.work / "run.json").write_text("{}")
    if signum is None:
        raise KeyboardInterrupt
    os.kill(os.getpid(), signum)
    for _ in range(1000):  # the handler runs at the next bytecode
        pass
    return 0


def test_a_stopped_cli_command_says_whether_out_was_written_and_exits_130_or_143(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert run_stoppable(lambda: 7, out) == 7 and capsys.readouterr().err == ""
    assert run_stoppable(_interrupted, out) == 130
    assert capsys.readouterr().err.strip() == f"Stopped: nothing was written to {out}."
    assert run_stoppable(lambda: _interrupted(out, signal.SIGTERM), out) == 143
    assert capsys.readouterr().err.strip() == f"Stopped after {out} was written."
    assert run_stoppable(_interrupted) == 130 and capsys.readouterr().err.strip() == "Stopped."
    assert run_stoppable(_interrupted, out, stopped="Stopped: all as it was.") == 130
    assert capsys.readouterr().err.strip() == "Stopped: all as it was."
    assert run_stoppable(_interrupted, out, stopped="") == 130 and capsys.readouterr().err == ""
