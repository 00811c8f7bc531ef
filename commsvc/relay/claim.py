"""Claim a Twilio SID once: the first webhook that inserts its row owns it, repeats read it.

INSERT ... ON CONFLICT (twilio_sid) DO NOTHING RETURNING id is one round trip and is safe under
concurrency: on PostgreSQL a second transaction inserting the same SID waits on the unique index
until the first commits, then inserts nothing; its next statement (READ COMMITTED) sees the
committed row. On SQLite, BEGIN IMMEDIATE serialises writers anyway. forward_once is the same
claim with the row's route and the recipient's consent selected in the same statement.
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import NamedTuple

from sqlalchemy import bindparam, exists, literal_column, or_, select
from sqlalchemy.orm import Session

from commsvc.db.driver import DriverStatement
from commsvc.db.inserts import INSERTS
from commsvc.records import remote
from commsvc.records.models import RemoteDeletion
from commsvc.relay.models import Call, Message
from commsvc.sessions import routing

# A text's or call's SID whose row erasure or retention removed: its deletion at Twilio is on
# record for good, so a repeated webhook (a retry, a replay) never stores the removed record
# again. Uses index: uq_remote_deletions_resource_sid_action (resource, sid, ...)
_REMOVED = {model: exists().where(RemoteDeletion.resource == resource,
                                  RemoteDeletion.sid == bindparam("twilio_sid"))
            for model, resource in ((Message, remote.MESSAGE), (Call, remote.CALL))}


@functools.cache
def _claim_statement(dialect: str, model, any_unique: bool = False, columns: tuple = ()):
    """Built once per table and set of columns: values come as parameters, so nothing is
    compiled per request."""
    table = model.__table__
    insert = INSERTS[dialect](table).from_select(columns, select(*(
        bindparam(name, type_=table.c[name].type) for name in columns)).where(~_REMOVED[model]))
    return (
        (insert.on_conflict_do_nothing() if any_unique
         else insert.on_conflict_do_nothing(index_elements=["twilio_sid"]))
        .returning(table.c.id)
    )


def insert_once(db: Session, model, values: dict, *, any_unique: bool = False) -> int | None:
    """Insert the row unless one with the same twilio_sid exists or existed and was removed:
    its new id, or None.

    any_unique=True: None too when the row would break any other unique index of the table
    (a claim of its own, such as messages.notice_of's); the caller tells the two apart.
    """
    connection = db.connection()  # Core: the ORM's bulk-insert path cost a third of the time
    statement = _claim_statement(connection.dialect.name, model, any_unique, tuple(values))
    return connection.execute(statement, values).scalar_one_or_none()


# The columns of a forwarded text that the sender's webhook decides; the route gives the rest.
_FORWARD_OWN_COLUMNS = ("direction", "from_phone", "to_phone", "body", "media_count",
                        "media_urls", "twilio_sid", "outcome", "status", "created_at",
                        "updated_at")


class Forwarded(NamedTuple):
    """The row forward_once stored."""

    id: int
    session_id: str
    forward_to: str
    forward_from: str


@functools.cache
def _forward_statement(dialect: str, model):
    """INSERT … SELECT from the route (with the recipient's consent) … ON CONFLICT DO NOTHING."""
    route = routing.route_query().subquery("route")
    table = model.__table__
    columns = {
        "session_id": route.c.session_id, "booking_id": route.c.booking_id,
        "forward_to": route.c.other_phone, "forward_from": route.c.other_proxy,
        **{name: bindparam(name, type_=table.c[name].type) for name in _FORWARD_OWN_COLUMNS},
    }
    # The modes as literals: an IN over a bound list is re-rendered on every execution.
    carries_texts = or_(*(route.c.mode == literal_column(f"'{mode}'")
                          for mode in routing.SMS_MODES))
    takes_texts = select(*columns.values()).where(carries_texts, route.c.other_takes_sms,
                                                  ~_REMOVED[Message])
    return (
        INSERTS[dialect](table).from_select(list(columns), takes_texts)
        .on_conflict_do_nothing(index_elements=["twilio_sid"])
        .returning(*(table.c[name] for name in Forwarded._fields))
    )


@functools.cache
def _forward_driver_statement(dialect: str, model) -> DriverStatement:
    # Every relayed text runs it: compiled once, run on the driver's cursor (db.driver).
    return DriverStatement(_forward_statement(dialect, model),
                           (*_FORWARD_OWN_COLUMNS, "real_phone", "proxy_number", "now"))


def forward_once(db: Session, model, values: dict, *, real_phone: str, proxy_number: str,
                 now: dt.datetime) -> Forwarded | None:
    """One statement for the usual text: store it as forwarded if real_phone's open session on
    proxy_number carries texts and the other participant takes them, and the SID is new.

    The row, or None: no such session, or it does not take this text, or the SID was claimed
    before. The caller then decides the long way.
    """
    statement = _forward_driver_statement(db.get_bind().dialect.name, model)
    row = statement.first(db, {
        **values, "real_phone": real_phone, "proxy_number": proxy_number, "now": now,
    })
    return Forwarded(*row) if row is not None else None
