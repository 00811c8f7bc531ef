"""Consent evidence as each caller may see it: a number written anywhere in it is masked unless
the caller sees full numbers (booking; privacy and admin with X-Access-Reason)."""
from __future__ import annotations

import pytest

PHONE = "+14155550101"
STATEMENT = "customer +14155550888 said gate code 4321"
NESTED = {"form": "support_console",
          "notes": [{"by": "agent", "text2": "callback on 415-555-0777 at 2026-11-22 06:53"},
                    "or (415) 555-0666"],
          "contact": {"alt": "06 12 34 56 78", "ticket": "T-4321"},
          "+14155550555": "a number as a key"}
FULL_DIGITS = ("4155550888", "4155550777", "4155550666", "0612345678", "4155550555")
REASON = {"X-Access-Reason": "dispute 42"}


def _record(client, headers, evidence):
    response = client.post(f"/v1/consent/{PHONE}", headers=headers, json={
        "channel": "sms", "purpose": "marketing", "action": "grant", "source": "support",
        "evidence": evidence})
    assert response.status_code == 201, response.json
    return response


def _history_evidence(client, headers):
    response = client.get(f"/v1/consent/{PHONE}/history", headers=headers)
    assert response.status_code == 200
    return [event["evidence"] for event in response.json["data"]]


def _digits(value) -> str:
    return "".join(c for c in str(value) if c.isdigit())


@pytest.mark.parametrize("role", ["ops", "privacy", "admin"])
def test_a_number_in_a_plain_statement_is_masked_for_callers_without_full_numbers(
        client, api_key, role):
    _record(client, api_key("booking"), STATEMENT)
    [evidence] = _history_evidence(client, api_key(role))
    assert evidence["statement"] == "customer +1******0888 said gate code 4321"


def test_numbers_anywhere_in_nested_evidence_are_masked_and_the_rest_kept(client, api_key):
    _record(client, api_key("booking"), NESTED)
    [evidence] = _history_evidence(client, api_key("ops"))
    for number in FULL_DIGITS:
        assert number not in _digits(evidence)
    assert evidence["form"] == "support_console"
    assert evidence["notes"] == [
        {"by": "agent", "text2": "callback on ******0777 at 2026-11-22 06:53"},
        "or ******0666"]
    assert evidence["contact"] == {"alt": "******5678", "ticket": "T-4321"}
    assert evidence["+1******0555"] == "a number as a key"
    assert evidence["received"]["api_key_id"].startswith("key_")


@pytest.mark.parametrize("role, headers", [
    ("booking", {}), ("privacy", REASON), ("admin", REASON)])
def test_callers_who_see_full_numbers_see_the_evidence_as_written(
        client, api_key, role, headers):
    _record(client, api_key("booking"), NESTED)
    [evidence] = _history_evidence(client, api_key(role) | headers)
    assert {k: v for k, v in evidence.items() if k != "received"} == NESTED


def test_the_answer_to_a_write_masks_the_evidence_as_a_read_does(client, api_key):
    admin_answer = _record(client, api_key("admin"), STATEMENT).json
    assert admin_answer["phone"] == "+1******0101"
    assert admin_answer["evidence"]["statement"] == "customer +1******0888 said gate code 4321"
    booking_answer = _record(client, api_key("booking"), STATEMENT).json
    assert booking_answer["evidence"]["statement"] == STATEMENT


@pytest.mark.parametrize("role", ["admin", "privacy", "ops"])
def test_a_to_in_a_callers_evidence_is_not_taken_for_a_pool_number(client, api_key, role):
    _record(client, api_key("booking"), {"to": "+14155550999"})
    [evidence] = _history_evidence(client, api_key(role))
    assert evidence["to"] == "+1******0999"



@pytest.mark.parametrize("written", ["(415)5550888", "+1 (415) 5550888", "415/555-0888"])
def test_numbers_written_without_the_usual_separators_are_masked_too(client, api_key, written):
    _record(client, api_key("booking"), {"statement": f"called from {written} at 9"})

    [evidence] = _history_evidence(client, api_key("ops"))

    assert "5550888" not in _digits(evidence["statement"])
    assert evidence["statement"].endswith("0888 at 9")


def test_a_phone_written_as_a_json_number_is_masked_and_small_numbers_are_kept(
        client, api_key):
    _record(client, api_key("booking"), {"callback": 14155550888, "attempts": 3,
                                         "consented": True})

    [evidence] = _history_evidence(client, api_key("ops"))

    assert evidence["callback"] == "*******0888"  # 11 digits: stars, then the last four
    assert (evidence["attempts"], evidence["consented"]) == (3, True)


@pytest.mark.parametrize("role", ["ops", "privacy"])
def test_a_number_glued_to_letters_in_evidence_is_masked_for_callers_without_full_numbers(
        client, api_key, role):
    """Found by a sweep of a running service: the API reads "ph4155550888" and "4155550888x"
    as +14155550888, and ops was shown them in full."""
    _record(client, api_key("booking"), {"note": "customer ph4155550888 agreed",
                                         "alt": "4155550777x"})
    [evidence] = _history_evidence(client, api_key(role))
    assert evidence["note"] == "customer ph******0888 agreed"
    assert evidence["alt"] == "******0777x"
