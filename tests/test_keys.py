"""API keys: random, shown once, stored hashed; 401 without a live key."""
from sqlalchemy import select

from commsvc.auth.models import ApiKey


def test_keys_create_prints_only_the_key_and_stores_its_hash(runner, db):
    result = runner.invoke(args=["keys", "create", "--name", "booking-app", "--role", "booking"])
    assert result.exit_code == 0, result.output
    raw = result.stdout.strip()
    assert raw.startswith("csk_") and "\n" not in raw
    stored = db.scalars(select(ApiKey)).one()
    assert stored.role == "booking"
    assert raw not in (stored.key_hash, stored.id, stored.name)


def test_keys_create_rejects_an_unknown_role(runner):
    result = runner.invoke(args=["keys", "create", "--name", "x", "--role", "root"])
    assert result.exit_code != 0


def test_keys_list_shows_keys_without_secrets(runner, api_key):
    api_key("ops", name="ops-dashboard")
    result = runner.invoke(args=["keys", "list"])
    assert result.exit_code == 0
    assert "ops-dashboard" in result.output and "csk_" not in result.output


def test_revoked_key_gets_401(runner, client, db, api_key):
    headers = api_key("admin")
    assert client.get("/v1/numbers", headers=headers).status_code == 200
    key_id = db.scalars(select(ApiKey.id)).one()
    assert runner.invoke(args=["keys", "revoke", key_id]).exit_code == 0
    response = client.get("/v1/numbers", headers=headers)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


def test_missing_or_unknown_key_gets_401(client):
    assert client.get("/v1/numbers").status_code == 401
    bad = {"Authorization": "Bearer csk_not-a-real-key"}
    assert client.get("/v1/numbers", headers=bad).status_code == 401


def test_a_bad_name_is_explained_in_words_not_a_dict(runner):
    result = runner.invoke(args=["keys", "create", "--name", "", "--role", "booking"])
    assert result.exit_code == 2
    assert "name: must be 1-100 characters" in result.stderr and "{" not in result.stderr


def test_keys_list_keeps_its_columns_apart_and_escapes_a_stored_control_character(
        runner, db, clock):
    """Names with control characters are refused now; one stored before still must not break
    the table (or move the operator's cursor)."""
    db.add(ApiKey(id="key_" + "0" * 16, name="old\nname\x1b[2J", role="ops",
                  key_hash="0" * 64, created_at=clock()))
    db.commit()

    lines = runner.invoke(args=["keys", "list"]).output.splitlines()

    [row] = [line for line in lines if line.startswith("key_" + "0" * 16)]
    assert row.endswith("2026-06-01T12:00:00Z" + " " * 9 + "old\\nname\\x1b[2J")
    assert len(lines) == 2


def test_a_key_sent_in_two_authorization_headers_is_a_401_saying_so(client, api_key):
    """Found by the edge audit: gunicorn joins a header sent twice with a comma (a client
    library's default Authorization and the request's own), and the 401 said "The API key is
    unknown or revoked." of a live key, sending its owner to check a key that was fine."""
    key = api_key("ops")["Authorization"]
    response = client.get("/v1/numbers", headers={"Authorization": f"{key},{key}"})
    assert response.status_code == 401
    assert "once" in response.get_json()["detail"]
    assert client.get("/v1/numbers", headers={"Authorization": key}).status_code == 200
