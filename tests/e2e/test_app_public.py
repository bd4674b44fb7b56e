"""A public server, tried as an attacker and a careless user would: raw HTTP and gradio_client against `python app.py`.

Item numbers refer to issue 20: (1) no server file readable through the API, (3) bounded disk, (4) bounded work per
request, (6) one sentence without server paths; and a soak of 50 calls (disk and RSS stay flat).
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from gradio_client import Client, handle_file

from playerseg.synthetic.dataset import generate_dataset
from playerseg.ui.public import folder_size
from tests.e2e.app_server import serve_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
MODEL = "test-sam2.1-tiny-128"
SLOW_MODEL = "test-sam2.1-tiny-256"
TTL_S = 3
TIMEOUT_S = 2  # the stopwatch server's limit: every run on it is stopped
LIMITS = {
    "PLAYERSEG_MAX_OBJECTS": "3",
    "PLAYERSEG_MAX_OBJECT_FRAMES": "150",
    "PLAYERSEG_RESULT_TTL_S": str(TTL_S),
    "PLAYERSEG_MAX_UPLOAD_MB": "1",
    "PLAYERSEG_MODELS": f"{MODEL},{SLOW_MODEL}",
}


class Server:
    def __init__(self, url: str, work: Path) -> None:
        self.url = url
        self.work = work
        self.client = Client(url, verbose=False)

    def process(self) -> psutil.Process:
        port = int(self.url.rstrip("/").rsplit(":", 1)[1])
        for child in psutil.Process().children(recursive=True):
            try:
                if any(c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in child.net_connections()):
                    return child
            except psutil.Error:
                continue
        raise AssertionError(f"no process listens on port {port}")

    def raw_call(self, data: list[Any]) -> tuple[str, str]:
        """POST /gradio_api/call/compare with raw JSON, then read the event stream: (last event, its data)."""
        request = urllib.request.Request(
            f"{self.url}gradio_api/call/compare",
            data=json.dumps({"data": data}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            event_id = json.loads(response.read())["event_id"]
        with urllib.request.urlopen(f"{self.url}gradio_api/call/compare/{event_id}", timeout=300) as response:
            text = response.read().decode()
        events = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("event:")]
        payloads = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("data:")]
        return events[-1], payloads[-1]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """small: 4 frames, 2 players; long: 60 frames, 1 player (longer than TIMEOUT_S with the 256 px model)."""
    root = tmp_path_factory.mktemp("public-clips")
    generate_dataset(root / "small", sequences=1, frames=4, players=2, width=160, height=90, seed=11)
    generate_dataset(root / "long", sequences=1, frames=60, players=1, width=320, height=180, seed=12)
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("public-app")
    work = root / "work"
    for leftover in (work / "api" / "deadbeef0000" / "A", work / "uploads" / "0123abcd", work / "sessions" / "old"):
        leftover.mkdir(parents=True)
        (leftover / "left.bin").write_bytes(b"\0" * 1000)
    with serve_app(work, root / "server.log", **LIMITS) as url:
        yield Server(url, work)


@pytest.fixture(scope="module")
def stopwatch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose runs may take TIMEOUT_S seconds."""
    root = tmp_path_factory.mktemp("stopwatch-app")
    with serve_app(root / "work", root / "server.log", **LIMITS, PLAYERSEG_RUN_TIMEOUT_S=str(TIMEOUT_S)) as url:
        yield Server(url, root / "work")


def _prompts(clips: Path, name: str = "small") -> str:
    return (clips / name / "prompts" / "seq000.json").read_text()


def _video(clips: Path, name: str = "small") -> Any:
    return handle_file(str(clips / name / "videos" / "seq000.mp4"))


def _call(server: Server, clips: Path, **overrides: Any) -> tuple[Any, Any, dict[str, Any]]:
    arguments = {"video": _video(clips), "prompts": _prompts(clips), "model_a": MODEL, "model_b": MODEL}
    return server.client.predict(**{**arguments, **overrides}, api_name="/compare")


def _refusal(server: Server, clips: Path, **overrides: Any) -> str:
    """The error sentence of a refused call; the next call still succeeds."""
    with pytest.raises(Exception) as caught:
        _call(server, clips, **overrides)
    message = str(caught.value)
    assert "Traceback" not in message and "\n" not in message.strip(), message
    _, _, summary = _call(server, clips)
    assert summary["models"]["A"]["ok"]
    return message


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_a_restart_removes_what_a_killed_process_left(server: Server) -> None:
    for folder in ("api", "uploads", "sessions"):
        assert not list((server.work / folder).rglob("left.bin")), folder


@pytest.mark.parametrize("form", ["string", "filedata"])
def test_a_server_path_is_never_read(server: Server, clips: Path, tmp_path: Path, form: str) -> None:
    """Item 1: a plain path or a FileData naming a server file is refused with the same sentence whether it exists."""
    existing = str(clips / "small" / "videos" / "seq000.mp4")
    missing = str(tmp_path / "nothing-here.mp4")
    prompts = _prompts(clips)
    answers = []
    for path in (existing, missing):
        video = path if form == "string" else {"path": path, "meta": {"_type": "gradio.FileData"}}
        event, data = server.raw_call([video, prompts, MODEL, MODEL, None])
        assert event == "error", data
        answers.append(data.replace(Path(path).name, "NAME"))
    assert answers[0] == answers[1]
    message = json.loads(answers[0])["error"]  # None: Gradio itself refused a FileData outside its upload folder
    assert message is None or "handle_file(path)" in message and "/" not in message.replace("handle_file(path)", "")


def test_ground_truth_on_the_server_is_never_read(server: Server, clips: Path, tmp_path: Path) -> None:
    """Item 1: ground truth named by a server path (here a real zip) is refused; nothing is scored."""
    import zipfile

    truth = tmp_path / "truth.zip"
    with zipfile.ZipFile(truth, "w") as archive:
        for png in sorted((clips / "small" / "Annotations" / "seq000").glob("*.png")):
            archive.write(png, png.name)
    uploaded = json.loads(
        urllib.request.urlopen(
            urllib.request.Request(
                f"{server.url}gradio_api/upload",
                data=_multipart(clips / "small" / "videos" / "seq000.mp4"),
                headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
            ),
            timeout=30,
        ).read()
    )[0]
    assert Path(uploaded).resolve().is_relative_to((server.work / "uploads").resolve())  # swept with the work folder
    video = {"path": uploaded, "meta": {"_type": "gradio.FileData"}}
    for truth_value in (str(truth), {"path": str(truth), "meta": {"_type": "gradio.FileData"}}):
        event, data = server.raw_call([video, _prompts(clips), MODEL, MODEL, truth_value])
        message = json.loads(data)["error"]  # None: Gradio itself refused the FileData
        assert event == "error" and (message is None or "ground truth" in message and "/" not in message), data
    event, data = server.raw_call([video, _prompts(clips), MODEL, MODEL, None])  # the upload itself is accepted
    assert event == "complete", data


def _multipart(path: Path) -> bytes:
    return (
        b'--XyZ\r\nContent-Disposition: form-data; name="files"; filename="'
        + path.name.encode()
        + b'"\r\nContent-Type: video/mp4\r\n\r\n'
        + path.read_bytes()
        + b"\r\n--XyZ--\r\n"
    )


def test_too_many_objects_are_refused(server: Server, clips: Path) -> None:
    """Item 4: more objects than PLAYERSEG_MAX_OBJECTS: one sentence naming the limit, before any model runs."""
    prompts = {
        "version": 1,
        "prompts": [{"frame": 0, "object_id": i, "points": [[10 + 30 * i, 40, 1]], "box": None} for i in range(1, 5)],
    }
    message = _refusal(server, clips, prompts=json.dumps(prompts))
    assert "4 objects" in message and "at most 3" in message and "PLAYERSEG_MAX_OBJECTS" in message


def test_frames_times_objects_are_trimmed_with_a_notice(server: Server, clips: Path) -> None:
    """Item 4: 60 frames x 3 objects is over 150: the run keeps 50 frames and says so."""
    prompts = json.loads(_prompts(clips, "long"))
    first = prompts["prompts"][0]
    prompts["prompts"] = [{**first, "object_id": i} for i in (1, 2, 3)]
    _, _, summary = _call(server, clips, video=_video(clips, "long"), prompts=json.dumps(prompts))
    assert summary["selection"]["frames"] == 50
    assert any("150 frames x objects" in notice for notice in summary["notices"]), summary["notices"]


def test_a_run_past_its_time_is_stopped_and_reported(stopwatch_server: Server, clips: Path) -> None:
    """Item 4: a run that would take longer than PLAYERSEG_RUN_TIMEOUT_S stops there, says so, keeps no files."""
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        _call(
            stopwatch_server,
            clips,
            video=_video(clips, "long"),
            prompts=_prompts(clips, "long"),
            model_a=SLOW_MODEL,
            model_b=SLOW_MODEL,
        )
    message = str(caught.value)
    assert f"stopped after {TIMEOUT_S} s" in message and "PLAYERSEG_RUN_TIMEOUT_S" in message, message
    assert "Traceback" not in message and "\n" not in message.strip()
    assert time.monotonic() - started < 60
    assert folder_size(stopwatch_server.work / "api") == 0


def test_uploads_over_the_size_limit_are_refused(server: Server, clips: Path, tmp_path: Path) -> None:
    """Item 3: a 2 MB file named .mp4 against a 1 MB limit never reaches the server's disk."""
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\0" * (2 << 20))
    before = folder_size(server.work / "uploads")
    with pytest.raises(Exception, match="(?i)size|large"):
        _call(server, clips, video=handle_file(str(junk)))
    assert folder_size(server.work / "uploads") - before < (1 << 20)


def test_messages_and_summary_name_no_server_folder(server: Server, clips: Path) -> None:
    """Item 6: no absolute server path in the summary or in an error sentence."""
    _, _, summary = _call(server, clips)
    assert not [s for s in _strings(summary) if s.startswith("/") or str(server.work) in s]
    message = _refusal(
        server, clips, prompts='{"version": 1, "prompts": [{"frame": 99, "object_id": 1, "points": [[10, 10, 1]]}]}'
    )
    assert str(server.work) not in message and "/tmp" not in message


def test_soak_fifty_calls_keep_disk_and_memory_flat(server: Server, clips: Path) -> None:
    """Acceptance: 50 calls in a row leave the work folder and Gradio's cache under a set size, RSS flat."""
    process = server.process()
    rss = []
    for call in range(50):
        video_a, video_b, summary = _call(server, clips)
        assert summary["models"]["A"]["ok"] and summary["models"]["B"]["ok"]
        assert Path(video_a).stat().st_size > 0
        rss.append(process.memory_info().rss)
        api_bytes = folder_size(server.work / "api")
        assert api_bytes < 5 << 20, f"call {call}: {api_bytes} bytes of API results"
    total = folder_size(server.work)
    warm = sorted(rss[5:15])[5]
    print(
        f"soak: 50 calls, work folder {total / 2**20:.2f} MB (api {api_bytes / 2**20:.2f} MB), RSS after call 10 "
        f"{warm / 2**20:.0f} MB, last 10 max {max(rss[-10:]) / 2**20:.0f} MB ({max(rss[-10:]) / warm:.3f}x)"
    )
    assert total < 20 << 20
    assert max(rss[-10:]) <= warm * 1.10, [r >> 20 for r in rss]
    time.sleep(TTL_S + 3)
    assert folder_size(server.work / "api") == 0
    assert folder_size(server.work / "uploads") < 1 << 20


def _zip_bomb(path: Path) -> Path:
    """A ~1 MB zip whose one 'mask' unpacks to 1 GB of zeros."""
    import zipfile

    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("00000.png", "w", force_zip64=True) as entry:
            for _ in range(1024):
                entry.write(chunk)
    return path


def test_a_zip_bomb_is_refused_before_it_costs_disk(server: Server, clips: Path, tmp_path: Path) -> None:
    """Item 5: refused at once, in one sentence naming the upload by its own name; the work folder does not grow."""
    bomb = _zip_bomb(tmp_path / "truth.zip")
    assert bomb.stat().st_size < 2 << 20
    before = folder_size(server.work)
    message = _refusal(server, clips, ground_truth=handle_file(str(bomb)))
    assert "truth.zip" in message and "/" not in message, message
    assert folder_size(server.work) - before < 8 << 20  # the upload itself and two small overlays, not 1 GB


@pytest.mark.parametrize(
    ("prompts", "words"),
    [
        (
            {"version": 1, "prompts": [{"frame": 0, "object_id": 1, "points": [[40, 40, 0]], "box": None}]},
            "only negative points",
        ),
        ({"version": 1, "prompts": [{"frame": 0, "object_id": 1, "points": [[40, 40, 1]]}], "promts": []}, "promts"),
    ],
)
def test_prompts_the_ui_would_refuse_are_refused_by_the_api(
    server: Server, clips: Path, prompts: dict[str, Any], words: str
) -> None:
    """Item 6: negative-only objects and unknown keys get the same one sentence as in the app and the CLI."""
    assert words in _refusal(server, clips, prompts=json.dumps(prompts))


def test_ground_truth_objects_nobody_prompted_are_left_out_with_a_notice(
    server: Server, clips: Path, tmp_path: Path
) -> None:
    """Item 6: the clip has two players; only player 1 is clicked, so player 2's ground truth is not scored."""
    import zipfile

    truth = tmp_path / "truth.zip"
    with zipfile.ZipFile(truth, "w") as archive:
        for png in sorted((clips / "small" / "Annotations" / "seq000").glob("*.png")):
            archive.write(png, png.name)
    prompts = json.loads(_prompts(clips))
    prompts["prompts"] = [p for p in prompts["prompts"] if p["object_id"] == 1]
    _, _, summary = _call(server, clips, prompts=json.dumps(prompts), ground_truth=handle_file(str(truth)))
    assert any("objects 2" in n or "object 2" in n.lower() and "not prompted" in n for n in summary["notices"]), (
        summary["notices"]
    )
    assert summary["models"]["A"]["accuracy"]["frames_scored"] == 4


def test_an_uploaded_html_file_is_served_as_a_download_not_a_page(server: Server, tmp_path: Path) -> None:
    """Gradio serves files of allowed paths inline with their own type: its upload cache must not be one, or an
    uploaded page would run scripts on the app's origin (stored XSS). From the cache, HTML comes back as a download."""
    page = tmp_path / "evil.html"
    page.write_bytes(b"<script>document.title='owned'</script>")
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="files"; filename="evil.html"\r\nContent-Type: text/html'
        b"\r\n\r\n" + page.read_bytes() + b"\r\n--XyZ--\r\n"
    )
    request = urllib.request.Request(
        f"{server.url}gradio_api/upload", data=body, headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
    )
    uploaded = json.loads(urllib.request.urlopen(request, timeout=30).read())[0]
    with urllib.request.urlopen(f"{server.url}gradio_api/file={uploaded}", timeout=30) as response:
        assert "text/html" not in response.headers.get("Content-Type", "")
        assert response.headers.get("Content-Disposition", "").startswith("attachment")
