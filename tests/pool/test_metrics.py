"""Pool gauges on /metrics, so operators add numbers before the pool runs out."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.sessions.conftest import REQUESTER


def _gauges(client) -> dict:
    text = client.get("/metrics").data.decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_pool_gauges_track_numbers_sessions_and_headroom(client, add_numbers, create, api_key,
                                                         clock):
    add_numbers("+14155559001", "+14155559002", "+14155559003")
    client.delete("/v1/numbers/+14155559003", headers=api_key("admin"))
    create("bk_1", pro="+14155550202")
    create("bk_2", pro="+14155550303", ttl_seconds=60)
    create("bk_3", requester="+14155550404", pro="+14155550505")
    gauges = _gauges(client)
    assert gauges[("commsvc_pool_numbers", (("status", "active"),))] == 2
    assert gauges[("commsvc_pool_numbers", (("status", "retired"),))] == 1
    assert gauges[("commsvc_sessions_open", ())] == 3
    assert gauges[("commsvc_pool_max_sessions_per_phone", ())] == 2  # REQUESTER has two
    assert gauges[("commsvc_pool_headroom", ())] == 0
    clock.advance(seconds=60)
    gauges = _gauges(client)
    assert gauges[("commsvc_sessions_open", ())] == 2
    assert gauges[("commsvc_pool_max_sessions_per_phone", ())] == 1
    assert gauges[("commsvc_pool_headroom", ())] == 1
    assert REQUESTER not in client.get("/metrics").data.decode()


def test_empty_pool_reports_zeros(client):
    gauges = _gauges(client)
    assert gauges[("commsvc_pool_numbers", (("status", "active"),))] == 0
    assert gauges[("commsvc_sessions_open", ())] == 0
    assert gauges[("commsvc_pool_headroom", ())] == 0


def test_headroom_leaves_out_sessions_kept_on_retired_numbers(client, add_numbers, create,
                                                              api_key):
    add_numbers("+14155559001")
    assert create("bk_1").status_code == 201  # REQUESTER on +14155559001
    client.delete("/v1/numbers/+14155559001", headers=api_key("admin"))
    add_numbers("+14155559002", "+14155559003")  # the pool moved to two new numbers
    gauges = _gauges(client)
    assert gauges[("commsvc_pool_max_sessions_per_phone", ())] == 1
    # REQUESTER's session holds a retired number: both active ones are free for them.
    assert gauges[("commsvc_pool_headroom", ())] == 2
    assert create("bk_2", pro="+14155550303").status_code == 201
    assert create("bk_3", pro="+14155550404").status_code == 201
    assert create("bk_4", pro="+14155550505").status_code == 503
    assert _gauges(client)[("commsvc_pool_headroom", ())] == 0
