"""A fake Twilio REST API that real `commsvc worker` processes reach with configuration only.

The twilio library sends through `requests`, which honours HTTPS_PROXY and REQUESTS_CA_BUNDLE:
the worker's environment points both here (`FakeTwilio.env()`), so it runs exactly as the
Procfile runs it, with no code of ours replaced. The fake is an HTTP proxy that answers
CONNECT api.twilio.com:443 itself, ends TLS with a certificate for api.twilio.com made by a
CA of its own (the bundle the workers trust), and serves the Messages API behind it:
create (answered as `plan(body, nth)` says), list (reconciliation) and nothing else.

It counts every create it receives per outbound id (the StatusCallback's `?o=`), knows which
worker process sent each request (its socket, found in /proc), and may post Twilio's status
callbacks to the app (`callback(path, params)`).
"""
from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import random
import socket
import ssl
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "api.twilio.com"

# What a create is answered with (FakeTwilio.plan returns one of these).
CREATED = "201"  # taken, answered
CREATED_500 = "500 after the write"  # taken, answered 500 (Twilio's own 5xx after its write)
ERROR_500 = "500"  # not taken
ERROR_503 = "503"  # not taken
THROTTLED = "429"  # not taken, Retry-After: 1
UNSUBSCRIBED = "21610"  # not taken, 400 code 21610
SLOW = "201 past the timeout"  # taken, answered after the client's 10 s timeout
ANSWERS = (CREATED, CREATED_500, ERROR_500, ERROR_503, THROTTLED, UNSUBSCRIBED, SLOW)
SLOW_SECONDS = 11.5  # the worker's Twilio HTTP timeout is 10 s (config.loader)


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA (the workers' REQUESTS_CA_BUNDLE) and api.twilio.com's certificate and key."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake Twilio test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = directory / "ca.pem", directory / "twilio.pem", directory / "twilio.key"
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem))
    paths[2].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def _rfc2822(moment: dt.datetime) -> str:
    return email.utils.format_datetime(moment)


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def client_pid(peer_port: int, pids: list[int]) -> int | None:
    """Which of `pids` owns the TCP socket whose local port is `peer_port` (the proxy's
    client), read from /proc as `ss -p` would."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == peer_port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                continue
    return None


def outbound_of(form: dict[str, str]) -> str:
    """The outbound text a create is for: the `o` of its StatusCallback's query."""
    return parse_qs(urlsplit(form.get("StatusCallback", "")).query).get("o", [""])[0]


@dataclass
class Create:
    """One create request Twilio received."""

    outbound_id: str
    answer: str
    sid: str | None  # the message it made, if it took one
    pid: int | None  # the worker process that sent it
    at: float  # time.monotonic()


@dataclass
class Stored:
    sid: str
    to: str
    from_: str
    body: str
    created: dt.datetime
    outbound_id: str
    visible_from: float  # monotonic: Twilio's list shows it from then on


@dataclass
class FakeTwilio:
    account_sid: str
    directory: Path
    plan: Callable[[str, int], str]  # (body, how many creates that body had before) -> answer
    list_failure_rate: float = 0.0
    seed: int = 0
    # Called with the sending worker's pid, the text's outbound id, its body and the plan's
    # answer to it before a create is taken (may hold it: a stall); an answer it returns
    # replaces the plan's.
    before_create: Callable[[int | None, str, str, str], str | None] | None = None
    # Called with each create as it is taken, before it is answered (a test's chaos).
    on_create: Callable[[Create], None] | None = None
    # Posts a status callback (path with query, form) to the app; None: none are sent.
    callback: Callable[[str, dict], None] | None = None
    callback_rate: float = 1.0
    list_lag: Callable[[str], float] = lambda body: 0.0  # seconds a new message stays unlisted
    pids: Callable[[], list[int]] = list
    creates: list[Create] = field(default_factory=list)
    stored: dict[str, Stored] = field(default_factory=dict)
    lookups: list[tuple[float, int]] = field(default_factory=list)  # (when, how many found)
    reported: set[str] = field(default_factory=set)  # SIDs whose status callback reached the app
    answers: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    port: int | None = None

    def __post_init__(self):
        self.lock = threading.Lock()
        self.rng = random.Random(self.seed)
        self._per_body: dict[str, int] = defaultdict(int)
        self._counter = 0
        self._threads: list[threading.Thread] = []
        self._closing = False

    # ----------------------------------------------------------------- serving

    def start(self) -> None:
        self.ca, cert, key = _certificates(self.directory)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))  # any free port: the suite runs in parallel
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def env(self) -> dict[str, str]:
        """What a worker's environment needs to reach this fake instead of Twilio."""
        proxy = f"http://127.0.0.1:{self.port}"
        return {"HTTPS_PROXY": proxy, "https_proxy": proxy, "REQUESTS_CA_BUNDLE": str(self.ca),
                "NO_PROXY": "", "no_proxy": ""}

    def close(self) -> None:
        self._closing = True
        try:
            self.listener.close()
        except OSError:
            pass

    def _accept(self) -> None:
        while True:
            try:
                conn, peer = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(conn, peer), daemon=True).start()

    def _tunnel(self, conn: socket.socket, peer) -> None:
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    conn.close()
                    return
                head += chunk
            if not head.startswith(f"CONNECT {HOST}:443 ".encode()):
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                conn.close()
                return
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            tls = self.tls.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError):
            conn.close()
            return
        fake = self

        class Handler(_Api):
            twilio = fake
            peer_port = peer[1]

        try:
            Handler(tls, peer, None)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass

    # ----------------------------------------------------------------- the API

    def new_sid(self) -> str:
        with self.lock:
            self._counter += 1
            return f"SM{self._counter:032x}"

    def planned(self, body: str) -> str:
        """What the plan answers the next create of `body` (none of which is taken yet)."""
        with self.lock:
            nth = self._per_body[body]
        return self.plan(body, nth)

    def take(self, form: dict[str, str], pid: int | None,
             answer: str | None = None) -> tuple[Create, Stored | None]:
        body, callback = form.get("Body", ""), form.get("StatusCallback", "")
        outbound_id = outbound_of(form)
        with self.lock:
            nth = self._per_body[body]
            self._per_body[body] += 1
        answer = answer or self.plan(body, nth)
        stored = None
        sid = None
        if answer in (CREATED, CREATED_500, SLOW):
            sid = self.new_sid()
            stored = Stored(sid=sid, to=form.get("To", ""), from_=form.get("From", ""),
                            body=body, created=dt.datetime.now(dt.UTC),
                            outbound_id=outbound_id,
                            visible_from=time.monotonic() + self.list_lag(body))
        create = Create(outbound_id, answer, sid, pid, time.monotonic())
        with self.lock:
            self.creates.append(create)
            self.answers[answer] += 1
            if stored is not None:
                self.stored[sid] = stored
        if stored is not None and self.callback is not None \
                and self.rng.random() < self.callback_rate:
            delay = self.rng.uniform(0.05, 1.5)
            timer = threading.Timer(delay, self._callbacks, args=(stored, callback))
            timer.daemon = True
            timer.start()
        return create, stored

    def _callbacks(self, stored: Stored, url: str) -> None:
        parts = urlsplit(url)
        path = f"{parts.path}?{parts.query}"
        for status in ("sent", "delivered"):
            if self._closing:
                return
            try:
                self.callback(path, {"MessageSid": stored.sid, "MessageStatus": status,
                                     "AccountSid": self.account_sid, "To": stored.to,
                                     "From": stored.from_})
            except Exception:  # noqa: BLE001 - a callback Twilio could not deliver
                return
            with self.lock:
                self.reported.add(stored.sid)
            time.sleep(0.2)

    def listed(self, query: dict[str, str]) -> list[Stored]:
        now = time.monotonic()
        since = _parse_time(query.get("DateSent>"))
        with self.lock:
            found = [m for m in self.stored.values()
                     if m.to == query.get("To") and m.from_ == query.get("From")
                     and m.visible_from <= now
                     and (since is None or m.created.date() >= since.date())]
            self.lookups.append((now, len(found)))
        return sorted(found, key=lambda m: m.created, reverse=True)

    def creates_of(self, outbound_id: str) -> list[Create]:
        return [c for c in self.creates if c.outbound_id == outbound_id and c.sid]

    def message_json(self, m: Stored, status: str = "queued") -> dict:
        return {"sid": m.sid, "account_sid": self.account_sid, "to": m.to, "from": m.from_,
                "body": m.body, "status": status, "num_segments": "1", "num_media": "0",
                "direction": "outbound-api", "date_created": _rfc2822(m.created),
                "date_updated": _rfc2822(m.created), "date_sent": _rfc2822(m.created),
                "error_code": None, "error_message": None, "price": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{m.sid}.json"}


class _Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    twilio: FakeTwilio
    peer_port: int

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def _answer(self, status: int, payload: dict, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _error(self, status: int, code: int, headers: dict | None = None) -> None:
        self._answer(status, {"code": code, "message": "fake error", "status": status,
                              "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                     headers)

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if not urlsplit(self.path).path.endswith("/Messages.json"):
            self._error(404, 20404)
            return
        fake = self.twilio
        pid = client_pid(self.peer_port, fake.pids())
        body = form.get("Body", "")
        answer = (fake.before_create(pid, outbound_of(form), body, fake.planned(body))
                  if fake.before_create is not None else None)
        create, stored = fake.take(form, pid, answer)
        if fake.on_create is not None:
            fake.on_create(create)
        answer = create.answer
        if answer == CREATED:
            self._answer(201, fake.message_json(stored))
        elif answer == SLOW:
            time.sleep(SLOW_SECONDS)
            self._answer(201, fake.message_json(stored))
        elif answer in (CREATED_500, ERROR_500):
            self._error(500, 20500)
        elif answer == ERROR_503:
            self._error(503, 20503)
        elif answer == THROTTLED:
            self._error(429, 20429, {"Retry-After": "1"})
        elif answer == UNSUBSCRIBED:
            self._error(400, 21610)
        else:
            raise AssertionError(answer)

    def do_GET(self):  # noqa: N802
        parts = urlsplit(self.path)
        if not parts.path.endswith("/Messages.json"):
            self._error(404, 20404)
            return
        fake = self.twilio
        with fake.lock:
            fails = fake.rng.random() < fake.list_failure_rate
        if fails:
            self._error(500, 20500)
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        found = fake.listed(query)
        self._answer(200, {"messages": [fake.message_json(m, "sent") for m in found],
                           "next_page_uri": None, "page": 0,
                           "page_size": int(query.get("PageSize", 50)),
                           "first_page_uri": parts.path, "previous_page_uri": None,
                           "uri": self.path})
