"""/healthz, /readyz and /metrics: for load balancers and Prometheus."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from commsvc import migrate
from commsvc.db.failures import operator_problem, schema_missing
from commsvc.db.session import get_db
from commsvc.extensions import now as _now

log = logging.getLogger("commsvc.health")
bp = Blueprint("health", __name__)

# Each entry: f(db, now) -> iterable of prometheus metric families, read at scrape time from the
# database so every process reports the same numbers (nothing lives in one process's memory).
METRIC_SOURCES: list = []


def metric_source(fn):
    METRIC_SOURCES.append(fn)
    return fn


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready when the database answers and its schema is not behind this code's migrations
    (a newer one is fine: in a deploy the release step migrates while old processes serve)."""
    try:
        version = get_db(reads_only=True).execute(
            text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as error:
        if schema_missing(error):
            log.warning("readiness check: %s", operator_problem(error))
            return jsonify(status="unavailable", database="not migrated"), 503
        log.warning("readiness check: %s", operator_problem(error) or "database not answering")
        return jsonify(status="unavailable", database="down"), 503
    head, older = migrate.revisions()
    if version is None:
        log.warning("readiness check: %s", _no_revision(head))
        return jsonify(status="unavailable", database="not migrated"), 503
    if version in older:
        log.warning("readiness check: the schema is at %s, this code needs %s: run `commsvc db"
                    " upgrade`", version, head)
        return jsonify(status="unavailable", database="not migrated"), 503
    return jsonify(status="ready", database="up")


# A table every revision of the schema has (0001 made it).
_FIRST_TABLE = "api_keys"


def _no_revision(head: str) -> str:
    """What to do about an alembic_version table with no row (it said "the schema is at None"):
    emptied by a downgrade to the base, which drops every table, or by hand, the tables kept."""
    if not inspect(get_db(reads_only=True).connection()).has_table(_FIRST_TABLE):
        return (f"the database has no commsvc schema (its alembic_version table is empty: a"
                f" downgrade to the base?), this code needs {head}: run `commsvc db upgrade`")
    return ("the database holds commsvc's tables but its alembic_version table names no revision"
            " (its row deleted?): `commsvc db upgrade` would create them again and fail; record"
            " the revision they are at (`alembic stamp REVISION`, with this DATABASE_URL), then"
            " run `commsvc db upgrade`")


class _DatabaseCollector:
    def __init__(self, db, now):
        self.db, self.now = db, now

    def collect(self):
        up = GaugeMetricFamily("commsvc_database_up", "Whether the database answered the scrape's "
                               "reads (0 too when it was never migrated)")
        try:
            families = [f for source in METRIC_SOURCES for f in source(self.db, self.now)]
        except DBAPIError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


@bp.get("/metrics")
def metrics():
    registry = CollectorRegistry()
    registry.register(_DatabaseCollector(get_db(reads_only=True), _now()))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
