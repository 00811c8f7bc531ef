"""`commsvc simulate`: a short masked conversation played through the real webhooks.

Every webhook is signed exactly as Twilio signs it (RequestValidator.compute_signature with the
configured auth token over PUBLIC_BASE_URL + path), and the session is made and closed through
the real Sessions API with an admin key that exists only for the run. It runs on the configured
database (a fresh `make run` SQLite file is enough) and needs no Twilio account: the answers are
TwiML, which this command reads back in plain words instead of Twilio acting on it.
"""
from __future__ import annotations

import logging
import secrets
from xml.etree import ElementTree

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from commsvc.auth import service as keys
from commsvc.phones import mask
from commsvc.records import audit
from commsvc.relay.models import Call, Message

ACTOR = "cli:simulate"
REQUESTER, PRO, STRANGER = "+14155550101", "+14155550202", "+14155550303"
POOL = ("+16465550001", "+16465550002")
# Added one at a time while the simulation's phones hold every number above in open sessions:
# the Quick tour's session (README) is made for the same two phones, and a run killed before
# it closed its session leaves that open.
SPARE_POOL = tuple(f"+1646555{n:04d}" for n in range(3, 10))
PHOTO = "https://demo.twilio.com/owl.png"
WHO = {REQUESTER: "requester", PRO: "pro", STRANGER: "stranger"}
NOBODY = "nobody receives anything"


class SimulationFailed(click.ClickException):
    pass


class Phones:
    """Signed webhooks and API calls against the running app, as Twilio and the booking app."""

    def __init__(self, app, api_key: str):
        self.app = app
        self.client = app.test_client()
        self.config = app.extensions["config"]
        self.validator = RequestValidator(self.config.twilio_auth_token)
        self.api = {"Authorization": f"Bearer {api_key}"}

    def open(self, path: str, **kwargs):
        """One request in its own app context, as a server runs it: in the CLI's, every request
        of the run shared one database session (flask.g), and one that failed before its
        commit (a 503 pool-exhausted) left its transaction open: on SQLite the rest of the run
        then stopped at "database is locked"."""
        with self.app.app_context():
            return self.client.open(path, **kwargs)

    def webhook(self, path: str, params: dict) -> ElementTree.Element:
        url = self.config.public_base_url + path
        signature = self.validator.compute_signature(url, params)
        response = self.open(path, method="POST", data=params,
                             headers={"X-Twilio-Signature": signature})
        if response.status_code != 200:
            raise SimulationFailed(f"{path} answered {response.status_code}: "
                                   f"{response.get_data(as_text=True)[:200]}")
        return ElementTree.fromstring(response.data)

    def call_api(self, method: str, path: str, expect: tuple[int, ...], **kwargs) -> dict:
        return self.answer(self.open(path, method=method, headers=self.api, **kwargs),
                           method, path, expect)

    @staticmethod
    def answer(response, method: str, path: str, expect: tuple[int, ...]) -> dict:
        """The JSON body of an API answer, or SimulationFailed unless its status is expected."""
        if response.status_code not in expect:
            body = response.get_json(silent=True) or {}
            raise SimulationFailed(f"{method} {path} answered {response.status_code}: "
                                   f"{body.get('detail') or body.get('title') or ''}")
        return response.get_json(silent=True) or {}

    def text(self, sender: str, proxy: str, body: str, media: tuple[str, ...] = ()) -> list[str]:
        params = {"From": sender, "To": proxy, "Body": body, "NumMedia": str(len(media)),
                  "MessageSid": "SM" + secrets.token_hex(16)}
        params.update({f"MediaUrl{i}": url for i, url in enumerate(media)})
        root = self.webhook("/webhooks/twilio/sms", params)
        for message in root.iter("Message"):
            # A forwarded text names its recipient; a reply goes back to the sender.
            status = message.get("statusCallback")
            if status:
                self.webhook(status[len(self.config.public_base_url):], {
                    "MessageSid": "SM" + secrets.token_hex(16), "MessageStatus": "delivered"})
        return [_received(m, sender, proxy) for m in root.iter("Message")] or [NOBODY]

    def call(self, caller: str, proxy: str) -> tuple[list[str], str]:
        params = {"From": caller, "To": proxy, "CallSid": "CA" + secrets.token_hex(16),
                  "CallStatus": "ringing", "Direction": "inbound"}
        root = self.webhook("/webhooks/twilio/voice", params)
        lines = [f'{_who(caller)} hears: "{say.text}"' for say in root.iter("Say")]
        for dial in root.iter("Dial"):
            lines.append(f"{_who(dial.text)} rings, showing {dial.get('callerId')}")
            action = dial.get("action")
            self.webhook(action[len(self.config.public_base_url):], {
                "CallSid": params["CallSid"], "CallStatus": "in-progress",
                "DialCallStatus": "completed", "DialCallDuration": "42"})
        if root.find("Hangup") is not None:
            lines.append("the call is hung up")
        return lines, ElementTree.tostring(root, encoding="unicode")


def _who(phone: str) -> str:
    return f"{WHO.get(phone, 'someone')}'s phone {mask(phone)}"


def _received(message: ElementTree.Element, sender: str, proxy: str) -> str:
    body = message.findtext("Body") if message.find("Body") is not None else message.text
    media = len(message.findall("Media"))
    extra = f" + {media} photo" if media == 1 else (f" + {media} photos" if media else "")
    return (f"{_who(message.get('to') or sender)} receives from {message.get('from') or proxy}: "
            f'"{body or ""}"{extra}')


def _temporary_admin_key(app) -> tuple[str, str]:
    now = app.extensions["clock"]()
    with app.extensions["db"].sessionmaker() as db:
        key, raw = keys.create_key(db, name="commsvc simulate", role="admin", now=now)
        audit.record(db, actor=ACTOR, action="key.created", now=now,
                     target={"key_id": key.id}, details={"role": "admin", "name": key.name})
        db.commit()
    return key.id, raw


def _revoke(app, key_id: str) -> None:
    now = app.extensions["clock"]()
    with app.extensions["db"].sessionmaker() as db:
        keys.revoke_key(db, key_id, now=now)
        audit.record(db, actor=ACTOR, action="key.revoked", now=now, target={"key_id": key_id})
        db.commit()


def _ensure_pool(phones: Phones, numbers: tuple[str, ...] = POOL) -> list[str]:
    """The numbers added (the others are in the pool already)."""
    added = []
    for number in numbers:
        response = phones.open("/v1/numbers", method="POST", headers=phones.api, json={
            "phone_number": number, "capabilities": ["sms", "voice"]})
        if response.status_code == 201:
            added.append(number)
        elif response.status_code != 409:  # 409: already in the pool
            raise SimulationFailed(f"POST /v1/numbers answered {response.status_code}")
    return added


def _open_session(phones: Phones, echo) -> dict:
    """The run's session; while the pool is exhausted for the simulation's phones (their other
    open sessions hold every simulation number), the next spare number is added first."""
    body = {"booking_id": "sim_" + secrets.token_hex(4), "requester": {"phone": REQUESTER},
            "pro": {"phone": PRO}, "mode": "sms_and_voice"}
    for spare in (*SPARE_POOL, None):
        response = phones.open("/v1/sessions", method="POST", headers=phones.api, json=body)
        exhausted = (response.status_code == 503 and (response.get_json(silent=True) or {})
                     .get("type") == "pool-exhausted")
        if not exhausted or spare is None:
            return phones.answer(response, "POST", "/v1/sessions", (201, 200))
        for number in _ensure_pool(phones, (spare,)):
            echo(f"pool: added {number} (the simulation's phones have open sessions on the"
                 " others)")


def _no_session(lines: list[str]) -> list[str]:
    """A no-session text's lines, saying why there is no reply when a run earlier in the day
    already had the sender told (the reply goes once a day per sender and number)."""
    if lines == [NOBODY]:
        return [NOBODY + " (told the conversation ended by an earlier run today: that reply"
                " goes once a day per sender and number)"]
    return lines


def _stored(app, session_id: str) -> str:
    with app.extensions["db"].sessionmaker() as db:
        messages = db.scalar(select(func.count()).where(Message.session_id == session_id))
        calls = db.scalar(select(func.count()).where(Call.session_id == session_id))
    return (f"stored in the session's records: {messages} texts, {calls} call"
            " (plus the two texts sent outside it)")


def run(app, api_key: str, echo) -> None:
    """The conversation; `echo` prints one line."""
    phones = Phones(app, api_key)
    added = _ensure_pool(phones)
    echo(f"pool: added {', '.join(added)}" if added else "pool: simulation numbers present")
    session = _open_session(phones, echo)
    req_proxy = session["requester"]["proxy_number"]
    pro_proxy = session["pro"]["proxy_number"]
    echo(f"session {session['id']}: requester {mask(REQUESTER)} uses {req_proxy},"
         f" pro {mask(PRO)} uses {pro_proxy}")
    try:
        steps = [
            (f'1. requester texts {req_proxy}: "Hi, is 9am tomorrow still good?"',
             phones.text(REQUESTER, req_proxy, "Hi, is 9am tomorrow still good?")),
            (f'2. pro texts {pro_proxy}: "Yes! This is the part I will fit." + 1 photo',
             phones.text(PRO, pro_proxy, "Yes! This is the part I will fit.", (PHOTO,))),
            (f'3. a stranger {mask(STRANGER)} texts {req_proxy}: "Who is this?"',
             _no_session(phones.text(STRANGER, req_proxy, "Who is this?"))),
        ]
        for said, received in steps:
            echo(said)
            for line in received:
                echo(f"   -> {line}")
        lines, twiml = phones.call(REQUESTER, req_proxy)
        echo(f"4. requester calls {req_proxy}")
        for line in lines:
            echo(f"   -> {line}")
        echo(f"   TwiML: {twiml}")
    finally:
        phones.call_api("POST", f"/v1/sessions/{session['id']}/close", (200,))
    echo(f'5. session closed; requester texts {req_proxy}: "Are you still coming?"')
    for line in _no_session(phones.text(REQUESTER, req_proxy, "Are you still coming?")):
        echo(f"   -> {line}")
    echo(_stored(app, session["id"]))


@click.command("simulate")
@click.option("--verbose", is_flag=True, help="Also show the service's (masked) log lines.")
@with_appcontext
def simulate_command(verbose: bool):
    """Play a short conversation through the signed webhooks (no Twilio account needed)."""
    app = current_app._get_current_object()
    config = app.extensions["config"]
    if config.is_production:
        raise click.ClickException(
            "simulate adds test numbers and sessions; it does not run in production"
            " (set COMMSVC_ENV=development for a scratch database)")
    logger = logging.getLogger("commsvc")
    level = logger.level
    if not verbose:
        logger.setLevel(logging.WARNING)  # one log line per webhook would drown the story
    key_id, raw = _temporary_admin_key(app)
    try:
        run(app, raw, click.echo)
    finally:
        _revoke(app, key_id)
        logger.setLevel(level)
    click.echo("the admin key made for this run is revoked")


commands = [simulate_command]
