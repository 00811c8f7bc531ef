"""An erased participant reads as null in the counterpart's export, as in the session API."""
from __future__ import annotations

from commsvc.phones import TOMBSTONE_PREFIX
from tests.records.test_retention import DAY, PRO, PROXY_A, REQUESTER, make_session
from tests.records.test_subjects import REASON


def test_the_counterparts_export_shows_an_erased_participant_as_null_like_the_session_api(
        client, api_key, db, clock):
    session = make_session(db, created_at=clock() - DAY, booking_id="bk_a1", status="open",
                           ended_at=clock() + 5 * DAY)
    db.commit()
    privacy = {**api_key("privacy"), **REASON}
    assert client.post(f"/v1/subjects/{REQUESTER}/erase", headers=privacy).status_code == 200

    export = client.get(f"/v1/subjects/{PRO}/export", headers=privacy)
    in_api = client.get(f"/v1/sessions/{session.id}", headers=privacy)

    assert export.status_code == 200, export.json
    [row] = export.json["sessions"]
    assert row["phone"] == PRO
    assert row["counterpart"] == {"role": "requester", "phone": None, "proxy_number": PROXY_A}
    assert in_api.json["requester"]["phone"] is None
    assert TOMBSTONE_PREFIX not in export.get_data(as_text=True)
