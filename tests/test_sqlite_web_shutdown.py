"""Ctrl-C on `make run`: the web process stops after the requests it is serving, as on SIGTERM.

Found by stopping `make run` with Ctrl-C under load: gunicorn's quick shutdown (SIGINT) ended
each worker in the middle of its request, which was answered 500 with an empty body. A text
stored as `blocked_consent_notified` was thus never answered with its notice.
"""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from commsvc import migrate
from tests.test_cli_config_errors import COMPLETE
from tests.test_gunicorn_errors import web_process

PROC_NET_TCP = Path("/proc/net/tcp")


def _accepted(server_port: int, client_port: int) -> bool:
    """Whether the server has accept()ed the connection from client_port: its end has a socket
    inode then (0 while the connection waits in the listen queue). Linux's /proc."""
    for line in PROC_NET_TCP.read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)) == (
                server_port, client_port):
            return inode != "0"
    return False


@pytest.mark.skipif(not PROC_NET_TCP.exists(), reason="needs Linux's /proc/net/tcp")
def test_ctrl_c_lets_the_webhook_being_served_finish_and_answer(tmp_path):
    migrate.upgrade(f"sqlite:///{tmp_path}/commsvc.db")
    params = {"MessageSid": "SM" + "c" * 32, "AccountSid": "AC" + "0" * 32,
              "From": "+14155550101", "To": "+16465550001", "Body": "hello?", "NumMedia": "0"}
    signature = RequestValidator(COMPLETE["TWILIO_AUTH_TOKEN"]).compute_signature(
        COMPLETE["PUBLIC_BASE_URL"] + "/webhooks/twilio/sms", params)
    body = urlencode(params).encode()
    head = (f"POST /webhooks/twilio/sms HTTP/1.1\r\nHost: x\r\nX-Twilio-Signature: {signature}"
            f"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()

    with web_process(tmp_path) as (process, port), socket.create_connection(
            ("127.0.0.1", port), timeout=60) as conn:
        # The worker is in the request: it has accepted it and waits for the body's last byte.
        conn.sendall(head + body[:-1])
        deadline = time.monotonic() + 30
        while not _accepted(port, conn.getsockname()[1]) and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        conn.sendall(body[-1:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        assert process.wait(timeout=60) == 0

    status, _, twiml = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 200 ")
    assert b"This conversation has ended" in twiml
    with sqlite3.connect(tmp_path / "commsvc.db") as db:
        stored = db.execute("SELECT outcome FROM messages WHERE twilio_sid = ?",
                            (params["MessageSid"],)).fetchall()
    assert stored == [("no_session",)]
