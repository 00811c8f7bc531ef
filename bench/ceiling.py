"""The ceiling: a bare Flask app under the same gunicorn command as the service.

It does what any webhook endpoint of this stack must do and nothing else: parse the same
form and answer TwiML of the same size as the relay's (a forwarded <Message> with from, to and
a statusCallback URL, the sender's text as its body). No signature check, no database. The
runner starts it with the Procfile's web line, only the app spec swapped, so the worker count,
worker class, bind and access log are the service's own.

GET /v1/consent/check answers CEILING_CONSENT_BODY (the service's own answer, captured by the
runner) for the informational GET ceiling.
"""
from __future__ import annotations

import itertools
import os
from xml.sax.saxutils import escape

from flask import Flask, Response, request

FROM = "+16462500001"  # E.164 numbers of the same length as the relay's
TO = "+14154000001"
FIRST_ID = 1_000_001  # message ids in the seeded database have seven digits


def create_app() -> Flask:
    app = Flask("ceiling")
    base_url = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    consent_body = os.environ.get("CEILING_CONSENT_BODY",
                                  '{"allowed":true,"reason":"default_allowed"}\n')
    ids = itertools.count(FIRST_ID)

    @app.post("/webhooks/twilio/sms")
    def sms() -> Response:
        form = request.form
        callback = (f"{base_url}/webhooks/twilio/message-status?m={next(ids)}"
                    f"&amp;s={form.get('MessageSid', '')}")
        twiml = (
            '<?xml version="1.0" encoding="UTF-8"?><Response>'
            f'<Message from="{FROM}" statusCallback="{callback}" to="{TO}">'
            f'<Body>{escape(form.get("Body", ""))}</Body></Message></Response>'
        )
        return Response(twiml, status=200, mimetype="text/xml")

    @app.get("/v1/consent/check")
    def consent_check() -> Response:
        request.args.get("phone")
        return Response(consent_body, status=200, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status":"ok"}\n', mimetype="application/json")

    return app
