"""Pool gauges read at scrape time, so operators add numbers before the pool runs out.

The busiest real number bounds the pool: a phone can be in at most one open session per active
proxy number (the routing rule), so headroom = active numbers - the most open sessions any one
phone has on active numbers (a session kept on a retired number holds no active one). At 0
that phone can get no new session.
"""
from __future__ import annotations

import datetime as dt

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session as DbSession

from commsvc.health import metric_source
from commsvc.pool.models import ProxyNumber
from commsvc.pool.service import STATUSES
from commsvc.sessions.models import Participant, Session


def _open(now: dt.datetime):
    return (Session.status == "open", Session.expires_at > now)


@metric_source
def pool_metrics(db: DbSession, now: dt.datetime):
    by_status = dict(db.execute(
        select(ProxyNumber.status, func.count()).group_by(ProxyNumber.status)).all())
    numbers = GaugeMetricFamily("commsvc_pool_numbers", "Proxy numbers in the pool",
                                labels=["status"])
    for status in STATUSES:
        numbers.add_metric([status], by_status.get(status, 0))

    open_sessions = db.scalar(select(func.count()).select_from(Session).where(*_open(now)))
    # A session kept on a retired number holds none of the active ones: the headroom counts,
    # per phone, only the sessions on active numbers (else retiring old numbers for new ones
    # would read as a pool about to run out).
    on_active = case((ProxyNumber.status == "active", 1), else_=0)
    # Uses index: uq_participants_active_route (phone, proxy_number) WHERE active
    per_phone = (
        select(func.count().label("n"), func.sum(on_active).label("on_active"))
        .select_from(Participant).join(Session, Session.id == Participant.session_id)
        .outerjoin(ProxyNumber, ProxyNumber.phone_number == Participant.proxy_number)
        .where(Participant.active, *_open(now))
        .group_by(Participant.phone)
        .subquery()
    )
    busiest, busiest_on_active = db.execute(select(
        func.coalesce(func.max(per_phone.c.n), 0),
        func.coalesce(func.max(per_phone.c.on_active), 0))).one()
    active = by_status.get("active", 0)

    yield numbers
    yield GaugeMetricFamily("commsvc_sessions_open", "Open, unexpired sessions",
                            value=open_sessions)
    yield GaugeMetricFamily("commsvc_pool_max_sessions_per_phone",
                            "The most open sessions any one real number has", value=busiest)
    yield GaugeMetricFamily("commsvc_pool_headroom",
                            "Active numbers minus the most open sessions of one real number"
                            " on active numbers", value=active - busiest_on_active)
