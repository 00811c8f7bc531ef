"""Answers that carry personal data are never kept by a browser's or a proxy's cache."""
from __future__ import annotations


def test_api_answers_success_or_error_are_no_store(client, api_key):
    privacy = {**api_key("privacy"), "X-Access-Reason": "DSAR 12"}
    for response in (client.get("/v1/subjects/+14155550101/export", headers=privacy),
                     client.get("/v1/sessions", headers=api_key("ops")),
                     client.get("/v1/sessions/ses_nope", headers=api_key("ops")),
                     client.get("/v1/sessions")):
        assert response.headers["Cache-Control"] == "no-store", response.status


def test_a_webhooks_twiml_is_no_store(twilio_post):
    response = twilio_post("/webhooks/twilio/sms", {
        "From": "+14155550101", "To": "+16465550001", "Body": "hi",
        "MessageSid": "SM" + "a" * 32})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_the_api_document_and_its_page_may_be_cached(client):
    assert "Cache-Control" not in client.get("/openapi.json").headers
