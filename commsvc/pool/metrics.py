"""Pool gauges read at scrape time, so operators add numbers before the pool runs out.

The busiest real number bounds the pool: a phone can be in at most one open session per active
proxy number (the routing rule), so headroom = active numbers - the most open sessions any one
phone has. At 0 that phone can get no new session.
"""
from __future__ import annotations

import datetime as dt

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
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
    # Uses index: uq_participants_active_route (phone, proxy_number) WHERE active
    per_phone = (
        select(func.count().label("n"))
        .select_from(Participant).join(Session, Session.id == Participant.session_id)
        .where(Participant.active, *_open(now))
        .group_by(Participant.phone)
        .subquery()
    )
    busiest = db.scalar(select(func.coalesce(func.max(per_phone.c.n), 0)))
    active = by_status.get("active", 0)

    yield numbers
    yield GaugeMetricFamily("commsvc_sessions_open", "Open, unexpired sessions",
                            value=open_sessions)
    yield GaugeMetricFamily("commsvc_pool_max_sessions_per_phone",
                            "The most open sessions any one real number has", value=busiest)
    yield GaugeMetricFamily("commsvc_pool_headroom",
                            "Active numbers minus the most open sessions of one real number",
                            value=active - busiest)
