"""Output folders that never lie: every command that writes a folder writes it whole or not at all.

    with staged_folder("runs/a", overwrite=args.overwrite) as staged:
        write_everything(staged.work)   # a hidden sibling: runs/.a.partial-<pid>-<host>-<random>
    # here runs/a is the new complete run; on an exception (Ctrl-C, SIGTERM, an error) it is untouched

A folder that already holds files is refused (OutputExistsError) unless `overwrite`; with it the finished folder
is swapped in with one rename (Linux renameat2 RENAME_EXCHANGE; elsewhere two renames) and the old run deleted.
A partial folder whose process no longer runs (killed with SIGKILL) is removed by the next run into the same
folder. `write_file_atomically` does the same for one file (a temporary sibling, then os.replace).

Library code never sets signal handlers: `sigterm_as_interrupt()` is for CLI entry points only.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import platform
import secrets
import shutil
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from evaluation.errors import EvaluationError

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM
PARTIAL = "partial"  # .NAME.partial-<pid>-<host>-<random>: a run being written
REPLACED = "replaced"  # .NAME.replaced-<pid>-<host>-<random>: the old run while the new one moves in (fallback)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class OutputExistsError(EvaluationError, ValueError):
    """The output folder already holds files and --overwrite was not given; the message is one sentence."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt, so both stop a run the same way."""


@dataclass
class StagedFolder:
    final: Path  # the folder the user asked for
    work: Path  # the hidden sibling everything is written into until the run succeeds


def check_output_folder(out: str | Path, overwrite: bool = False, inputs: Iterable[str | Path | None] = ()) -> None:
    """Refuse, with one sentence, an output folder that holds files (unless `overwrite`), holds one of the run's
    `inputs` (replacing it would delete them), or is a file."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise OutputExistsError(f"{path} is a file, not a folder; choose a folder for the output.")
    if not path.is_dir() or not any(path.iterdir()):
        return
    if not overwrite:
        raise OutputExistsError(
            f"{path} already holds files (a previous run?); pass --overwrite to replace it, or choose another folder."
        )
    for source in inputs:
        if source is not None and _inside(Path(source), path):
            raise OutputExistsError(
                f"{path} holds {source}, an input of this run, which --overwrite would delete; choose another folder."
            )


@contextlib.contextmanager
def staged_folder(
    out: str | Path, overwrite: bool = False, inputs: Iterable[str | Path | None] = ()
) -> Iterator[StagedFolder]:
    """Write into a hidden sibling of `out`; move it into place only when the block ends without an exception.
    Refuses `out` as check_output_folder does."""
    final = Path(out)
    check_output_folder(final, overwrite, inputs)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(final)
    staged = StagedFolder(final, _sibling(final, PARTIAL))
    staged.work.mkdir()
    try:
        yield staged
        _move_into_place(staged.work, final, overwrite)
    finally:  # after a failure: the half-written run; after an overwrite: the old run (swapped into `work`)
        shutil.rmtree(staged.work, ignore_errors=True)


def write_file_atomically(path: str | Path, text: str) -> Path:
    """Write `text` to a temporary sibling, then os.replace it over `path`: readers see the old file or the new."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target)
    temporary = _sibling(target, PARTIAL)
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def remove_stale_partials(out: str | Path) -> list[Path]:
    """Remove what a killed run into `out` left beside it; a run cut between its two renames gets its old
    folder back. Returns the paths removed or restored."""
    final = Path(out)
    parent = final.parent if str(final.parent) else Path(".")
    if not parent.is_dir():
        return []
    found: list[Path] = []
    for kind in (REPLACED, PARTIAL):
        for path in sorted(parent.glob(f".{_escape(final.name)}.{kind}-*")):
            if not _left_by_dead_process(path):
                continue
            if kind == REPLACED and not final.exists():
                os.rename(path, final)
            elif path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            found.append(path)
    return found


def identity(path: str | Path) -> tuple[int, int] | None:
    """(device, inode) of `path`, or None when it does not exist: tells whether a run replaced it."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def stopped_message(out: str | Path, before: tuple[int, int] | None) -> str:
    """The sentence a CLI prints when a run into `out` was stopped (`before`: its identity at the start)."""
    if identity(out) == before:
        return f"Stopped: nothing was written to {out}."
    return f"Stopped after {out} was written."


def run_stoppable(command: Callable[[], int], out: str | Path | None = None, stopped: str | None = None) -> int:
    """A CLI entry point's body: `command()`'s exit code, or, when Ctrl-C or SIGTERM stops it, one sentence on stderr
    (`stopped`; by default whether `out` was written; "" says nothing) and exit code 130 / 143."""
    before = identity(out) if out else None
    with sigterm_as_interrupt():
        try:
            return command()
        except KeyboardInterrupt as stop:
            if stopped is None:
                stopped = stopped_message(out, before) if out else "Stopped."
            if stopped:
                print(stopped, file=sys.stderr)
            return exit_code(stop)


_SIGTERM_SEEN: list[bool] = [False]  # set by sigterm_as_interrupt's handler: libraries may re-raise its Terminated


def exit_code(stop: KeyboardInterrupt) -> int:
    """143 for SIGTERM, 130 for Ctrl-C. A library that turns the interrupt it caught into a plain KeyboardInterrupt
    (Ray's waits do: its signal check returns "interrupted" and the caller raises KeyboardInterrupt afresh) still
    exits 143 when SIGTERM was what arrived."""
    terminated = isinstance(stop, Terminated) or _SIGTERM_SEEN[0]
    return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """For CLI entry points: while the block runs, SIGTERM raises Terminated (a KeyboardInterrupt) in the main
    thread; the previous handler comes back afterwards. Outside the main thread nothing changes."""

    def raise_terminated(signum: int, frame: object) -> None:
        _SIGTERM_SEEN[0] = True
        raise Terminated(f"signal {signum}")

    _SIGTERM_SEEN[0] = False
    try:
        previous = signal.signal(signal.SIGTERM, raise_terminated)
    except ValueError:  # not the main thread: signals cannot be handled here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        _SIGTERM_SEEN[0] = False


def _move_into_place(work: Path, final: Path, overwrite: bool) -> None:
    """`work` becomes `final`. An empty or missing `final` is replaced in one rename; with `overwrite` a full one
    is swapped (the old run ends up in `work`, deleted by the caller)."""
    try:
        os.rename(work, final)
        return
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not final.is_dir():
            raise
        if not overwrite:  # another run filled it meanwhile
            raise OutputExistsError(
                f"{final} already holds files (a run that finished meanwhile?); pass --overwrite to replace it, or "
                "choose another folder."
            ) from None
    if _exchange(work, final):
        return
    aside = _sibling(final, REPLACED)
    os.rename(final, aside)
    try:
        os.rename(work, final)
    except BaseException:
        os.rename(aside, final)
        raise
    os.rename(aside, work)  # the old run where the caller deletes it


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 with RENAME_EXCHANGE); False where the system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, musl before 1.2.5, Windows)
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):  # old kernel or a file system without it
        return False
    raise OSError(code, os.strerror(code), str(second))


def _sibling(final: Path, kind: str) -> Path:
    return final.with_name(f".{final.name}.{kind}-{os.getpid()}-{_host_tag()}-{secrets.token_hex(4)}")


def _host_tag() -> str:
    """A short tag of this machine: a folder shared between machines is only swept of this machine's leftovers."""
    return hashlib.sha256(platform.node().encode()).hexdigest()[:8]


def _left_by_dead_process(path: Path) -> bool:
    """True for a leftover of a process on this machine that no longer runs (never on systems without POSIX
    signals, where os.kill would end the process)."""
    fields = path.name.rsplit(".", 1)[-1].split("-")
    if os.name != "posix" or len(fields) != 4 or not fields[1].isdigit() or fields[2] != _host_tag():
        return False
    pid = int(fields[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


def _inside(source: Path, folder: Path) -> bool:
    """Whether an existing path `source` is `folder` or lies inside it (model names that are no path never do)."""
    if not source.expanduser().exists():
        return False
    resolved, container = source.expanduser().resolve(), folder.resolve()
    return resolved == container or container in resolved.parents


def _escape(name: str) -> str:
    """A folder name as a literal glob pattern."""
    return "".join(f"[{char}]" if char in "*?[]" else char for char in name)
