"""Command-line errors a user reads: one sentence after "error: " and exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from playerseg.errors import EXIT_USER_ERROR, UsageError, os_error_message, report_user_errors


class OtherPackageError(ValueError):
    """Stands for an error of another package whose message is one sentence (evaluation's OutputExistsError)."""


def _raise(error: BaseException) -> int:
    raise error


def test_user_errors_are_one_line_on_stderr_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report_user_errors(lambda: 0) == 0
    assert report_user_errors(lambda: _raise(UsageError("Give --a or --b, not both."))) == EXIT_USER_ERROR == 2
    assert capsys.readouterr().err == "error: Give --a or --b, not both.\n"
    missing = tmp_path / "clip.mp4"
    assert report_user_errors(lambda: len(missing.read_bytes())) == 2
    assert capsys.readouterr().err == f"error: No such file or directory: {missing}\n"
    assert report_user_errors(lambda: _raise(OtherPackageError("Folder x holds files.")), (OtherPackageError,)) == 2
    assert capsys.readouterr().err == "error: Folder x holds files.\n"


def test_other_errors_are_not_taken_for_user_errors() -> None:
    """A bug stays a traceback (and a test failure): only errors meant for users become one sentence."""
    with pytest.raises(OtherPackageError):
        report_user_errors(lambda: _raise(OtherPackageError("not declared")))
    with pytest.raises(ZeroDivisionError):
        report_user_errors(lambda: 1 // 0)


def test_os_errors_without_a_file_name_keep_their_reason() -> None:
    assert os_error_message(OSError(28, "No space left on device")) == "No space left on device"
    assert os_error_message(PermissionError(13, "Permission denied", "/out")) == "Permission denied: /out"
    assert os_error_message(OSError("bare message")) == "bare message"
