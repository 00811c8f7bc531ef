"""`commsvc keys revoke` given a key's secret (or nothing) instead of its id: says so, never
prints the secret, and revokes nothing."""
from __future__ import annotations

from sqlalchemy import select

from commsvc.auth.models import ApiKey


def test_revoke_given_a_live_keys_secret_names_its_id_and_never_echoes_the_secret(
        runner, client, db, api_key):
    headers = api_key("admin")
    secret = headers["Authorization"].removeprefix("Bearer ")
    key_id = db.scalars(select(ApiKey.id)).one()

    result = runner.invoke(args=["keys", "revoke", secret])

    assert result.exit_code == 1
    assert result.output == (f"Error: that is a key's secret, not its id: it is the secret of "
                             f"{key_id}; run `commsvc keys revoke {key_id}`\n")
    assert secret[4:12] not in result.output  # not even a prefix of the random part
    assert client.get("/v1/numbers", headers=headers).status_code == 200  # still live


def test_revoke_given_an_unknown_secret_says_to_use_the_id_from_keys_list(runner):
    secret = "csk_zgxB" + "q" * 39

    result = runner.invoke(args=["keys", "revoke", secret])

    assert result.exit_code == 1
    assert result.output == ("Error: that is a key's secret, not its id: revoke by the id "
                             "`commsvc keys list` shows (key_...)\n")
    assert "zgxB" not in result.output


def test_revoke_given_an_empty_id_is_a_usage_error(runner):
    """Found by an audit: `keys revoke ""` printed "no API key " (exit 1), where every other
    empty argument of the CLI is a usage error."""
    result = runner.invoke(args=["keys", "revoke", " "])

    assert result.exit_code == 2
    assert "Invalid value for KEY_ID: give the key's id, as `keys list` shows it" in result.output


def test_revoke_takes_the_id_as_the_audit_log_names_it_and_with_stray_spaces(
        runner, client, db, api_key):
    """Found by an audit: an operator working from `GET /v1/audit` (actor `key:key_…`), or
    pasting the id with a space, got "no API key …" and the key stayed live."""
    for written in ("key:{}", " {} "):
        headers = api_key("admin")
        key_id = db.scalars(select(ApiKey.id).where(ApiKey.revoked_at.is_(None))).one()

        result = runner.invoke(args=["keys", "revoke", written.format(key_id)])

        assert result.exit_code == 0, result.output
        assert result.output == f"revoked {key_id}\n"
        assert client.get("/v1/numbers", headers=headers).status_code == 401
