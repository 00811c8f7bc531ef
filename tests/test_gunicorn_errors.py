"""What gunicorn itself answers, before the app sees a request: problem+json, not HTML."""
from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

import pytest

from tests.test_cli_config_errors import COMPLETE, FERNET_KEY

ROOT = Path(__file__).resolve().parent.parent
# gunicorn's start-up line: the port it listens on and its master's pid
LISTENING = re.compile(r"Listening at: http://[\d.]+:(?P<port>\d+) \((?P<pid>\d+)\)")
IN_USE = "in use"  # what until_listening gives when another process took the port first


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def web_env(tmp_path) -> dict[str, str]:
    """A production web process's settings, on a SQLite file and a port free a moment ago."""
    return {**os.environ, **COMPLETE, "ENCRYPTION_KEYS": FERNET_KEY, "COMMSVC_ENV": "production",
            "PORT": str(_free_port()), "WEB_CONCURRENCY": "1",
            "DATABASE_URL": f"sqlite:///{tmp_path}/commsvc.db"}


def until_listening(process: subprocess.Popen, lines, seconds: float) -> re.Match | str | None:
    """gunicorn's LISTENING line read from `lines` (the process's log); IN_USE when another
    process took the port in between ("Connection in use": gunicorn would retry it for 5 s,
    then exit; it queues a SIGTERM till then, no worker yet); None when the log ended or
    `seconds` passed without either. The log is read by a thread of its own, which goes on
    draining it afterwards: a readline here would wait for a line past the deadline, and a
    pipe left unread fills and stops the process at its next log line."""
    read: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        try:
            for line in iter(lines.readline, ""):
                read.put(line)
        except (OSError, ValueError):  # closed by the test while read
            pass
        read.put(None)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = read.get(timeout=left)
        except queue.Empty:
            return None
        if line is None:
            return None
        if "Connection in use" in line:
            return IN_USE
        if found := LISTENING.search(line):
            return found
    return None


def _start_web(tmp_path) -> tuple[subprocess.Popen, int | None]:
    """The Procfile's web line started on a port free a moment ago, and the port it listens
    on; None when another process took that port in between (the process is stopped then)."""
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines()
               if line.startswith("web:"))[len("web:"):]
    env = {**web_env(tmp_path),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen(["sh", "-c", f"exec {web}"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    found = until_listening(process, process.stderr, 60)
    if found is IN_USE:
        _stop(process, signal.SIGKILL)
        return process, None
    if found is None:
        _stop(process)
        raise AssertionError("the web process did not start")
    return process, int(found["port"])


def _stop(process: subprocess.Popen, how: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, how)
    process.wait(timeout=30)
    process.stderr.close()


@contextlib.contextmanager
def web_process(tmp_path):
    """(the process, its port): the Procfile's web line on a free port (production settings,
    the SQLite file tmp_path/commsvc.db), in a process group of its own as a terminal's.
    Parallel test workers pick free ports too: one taken between the pick and gunicorn's
    bind is picked again."""
    for _attempt in range(5):
        process, port = _start_web(tmp_path)
        if port is not None:
            break
    else:
        raise AssertionError("no free port for the web process after 5 tries")
    try:
        yield process, port
    finally:
        _stop(process)


@pytest.fixture
def web_port(tmp_path):
    with web_process(tmp_path) as (_process, port):
        yield port


def test_until_listening_gives_up_at_its_deadline_when_no_line_comes_before_it():
    """Its readline waited for the next line (or the log's end) past its deadline: a web
    process that hung before its first log line held the test until it wrote one, however
    short the deadline. Here the line comes long after the deadline: read, it was taken as
    the answer."""
    late = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(5);"
         " print('Listening at: http://127.0.0.1:1 (1)', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert until_listening(late, late.stdout, 0.2) is None
    finally:
        late.kill()
        late.wait(timeout=30)
        late.stdout.close()


def test_a_port_taken_before_gunicorn_binds_it_is_picked_again(tmp_path, monkeypatch):
    """Found by a flaky-test hunt: _free_port's port is free when picked, but the suite's other
    worker (or anything else) could bind it before gunicorn did; gunicorn then retried for
    5 s and exited, and the test failed with "the web process did not start"."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        picks = iter([taken.getsockname()[1]])
        monkeypatch.setattr(sys.modules[__name__], "_free_port",
                            lambda free_port=_free_port: next(picks, None) or free_port())
        with web_process(tmp_path) as (_process, port):
            assert port != taken.getsockname()[1]
            status_line, _headers, _body = _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_line.startswith("HTTP/1.1 ")


def test_the_web_command_runs_the_gunicorn_of_its_own_python_not_on_path(tmp_path):
    """Found by a review: `.venv/bin/python -m commsvc.web ...` (the Procfile's web line with
    the venv's python named, as a unit file or a container's command gives it, the venv not on
    PATH) stopped with a FileNotFoundError traceback: commsvc.web looked gunicorn up on PATH
    only, where another install's could be found instead."""
    env = {**os.environ, "PATH": str(tmp_path)}  # no gunicorn there

    done = subprocess.run([sys.executable, "-m", "commsvc.web", "--version"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("gunicorn (version ")


def test_the_web_command_without_gunicorn_says_so_in_one_line(tmp_path):
    """A Python with commsvc importable but no gunicorn beside it nor on PATH: one line, exit
    status 2, not os.execv's traceback."""
    site_packages = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PATH": str(tmp_path), "LOG_FORMAT": "text",
           "PYTHONPATH": os.pathsep.join((str(ROOT), site_packages))}
    base = getattr(sys, "_base_executable", sys.executable)
    if os.access(Path(base).parent / "gunicorn", os.X_OK):
        pytest.skip("the base Python has a gunicorn of its own")

    done = subprocess.run([base, "-m", "commsvc.web", "--version"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)

    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"Error: gunicorn is installed neither beside {base} nor on PATH:"
                           " install commsvc with its dependencies into that Python's"
                           " environment\n")


def test_a_web_concurrency_set_but_empty_is_the_default(tmp_path, monkeypatch):
    """WEB_CONCURRENCY= (set, empty) is unset to load_config and to the Procfile's
    ${WEB_CONCURRENCY:-2}, but gunicorn read it when imported (int('')) and the web process
    stopped with a ValueError traceback; commsvc.web now hands gunicorn no such variable."""
    monkeypatch.setattr(sys.modules[__name__], "web_env",
                        lambda path, web_env=web_env: {**web_env(path), "WEB_CONCURRENCY": ""})
    with web_process(tmp_path) as (_process, port):
        status_line, _headers, _body = _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_line == "HTTP/1.1 200 OK"


def _raw(port: int, request: bytes) -> tuple[str, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}
    return status, headers, body


@pytest.mark.parametrize(("request_bytes", "status", "title"), [
    (b"GET /v1/logs/messages?phone=" + b"1" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
     414, "URI Too Long"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad\x01Header: 1\r\n\r\n", 400, "Bad Request"),
    # gunicorn answers it 501 with the reason "Bad Request", in the status line too
    (b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: br, chunked\r\n\r\n",
     501, "Not Implemented"),
], ids=["request line too long", "malformed header", "unknown transfer coding"])
def test_a_request_gunicorn_cannot_parse_is_answered_with_problem_json(
        web_port, request_bytes, status, title):
    status_line, headers, body = _raw(web_port, request_bytes)

    assert status_line == f"HTTP/1.1 {status} {title}"
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert (problem["status"], problem["title"]) == (status, title)
    assert problem["detail"]



def test_a_malformed_chunked_body_is_a_400_not_a_500(web_port):
    """Found by the edge audit: gunicorn decodes a chunked body as the app reads it, and its
    parse error (a chunk size that is not hex, a chunk not ended by CRLF) came up through the
    read as a 500 with a traceback logged at ERROR; anyone could raise it, before the
    signature check or the key. Gunicorn answers the same errors in the headers with a 400."""
    for path, content_type in (("/webhooks/twilio/sms", "application/x-www-form-urlencoded"),
                               ("/v1/no-such-path", "application/json")):
        for chunk in (b"zz\r\n", b"3\r\nabcXY", b"3;\rx\r\nabc\r\n"):
            head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Twilio-Signature: x\r\n"
                    f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n")
            status_line, headers, body = _raw(web_port, head.encode() + chunk)

            assert status_line.startswith("HTTP/1.1 400 "), (path, chunk, status_line)
            assert headers["content-type"] == "application/problem+json"
            assert "chunked" in json.loads(body)["detail"]


def test_gunicorns_answer_never_repeats_an_api_key_or_a_phone_number(web_port):
    """Found by the edge audit: gunicorn's 400 repeats the header line or request line it
    could not parse, and a header without its colon ("Authorization Bearer csk_...") came
    back with the key in the body, where a client's error log keeps it (API.md: no secret
    ever appears in a response). Its log line already said "Bearer REDACTED"."""
    key = "csk_" + "k" * 43
    for request_bytes in (  # each case alone fails without the masking
            f"GET /v1/logs/messages HTTP/1.1\r\nHost: x\r\nAuthorization Bearer {key}\r\n\r\n",
            f"GET /v1/logs/messages HTTP/1.1\r\nHost: x\r\n{key}\r\n\r\n",
            "GET v1/consent/+14155550101 HTTP/1.1\r\nHost: x\r\n\r\n"):
        status_line, headers, body = _raw(web_port, request_bytes.encode())

        assert status_line.startswith("HTTP/1.1 400 ")
        detail = json.loads(body)["detail"]
        assert "kkkkkkkk" not in detail and "5550101" not in detail, detail
        assert detail.startswith("Invalid")  # still says what gunicorn could not parse
        assert detail.count("'") % 2 == 0, detail  # the quote closing what it repeats stays
    # gunicorn repeats a bad request line as its repr: full-width digits come back as "\x94"
    # escapes of their UTF-8 bytes, which a reader decodes; its log line masked them, the
    # answer did not (one masking, log_masking.urls.mask_client_line, now serves both).
    status_line, _, body = _raw(web_port, "GET v1/consent/＋１４１５５５５０１０１ HTTP/1.1\r\n"
                                          "Host: x\r\n\r\n".encode())
    assert status_line.startswith("HTTP/1.1 400 ")
    detail = json.loads(body)["detail"]
    assert "******0101" in detail and "\\x9" not in detail, detail


def test_two_access_reason_headers_are_a_422_not_one_joined_reason(tmp_path):
    """Found in review: the environ joins a repeated header with a comma, so two
    X-Access-Reason headers were audited as one reason no one gave ("ticket 1,ticket 2");
    they are refused as two Authorization headers are. A reason with a comma still reads."""
    env = {**os.environ, **COMPLETE, "ENCRYPTION_KEYS": FERNET_KEY, "COMMSVC_ENV": "production",
           "DATABASE_URL": f"sqlite:///{tmp_path}/commsvc.db"}
    commsvc = str(Path(sys.executable).parent / "commsvc")
    subprocess.run([commsvc, "db", "upgrade"], env=env, check=True, capture_output=True)
    key = subprocess.run([commsvc, "keys", "create", "--name", "p", "--role", "privacy"],
                         env=env, check=True, capture_output=True, text=True).stdout.strip()
    with web_process(tmp_path) as (_process, port):
        def read(*reasons: str, marker: str = "") -> tuple[str, bytes]:
            lines = "".join(f"X-Access-Reason: {reason}\r\n" for reason in reasons)
            status_line, _headers, body = _raw(port, (
                f"GET /v1/logs/messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                f"Authorization: Bearer {key}\r\n{marker}{lines}\r\n").encode())
            return status_line, body

        status_line, body = read("ticket 1", "ticket 2, urgent")
        assert status_line.startswith("HTTP/1.1 422 "), body
        assert json.loads(body)["errors"] == {"X-Access-Reason": [
            "send one reason: the request carried the header more than once"]}
        # One reason with a comma is one reason; a client's own marker header counts for nothing.
        status_line, body = read("ticket 2, urgent",
                                 marker="X-Commsvc-Repeated-Headers: X-ACCESS-REASON\r\n")
        assert status_line.startswith("HTTP/1.1 200 "), body
