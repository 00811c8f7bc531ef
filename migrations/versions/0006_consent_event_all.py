"""consent: one event per recorded decision, whose channel or purpose may be "all"

A grant or revocation posted for "all" channels or purposes was stored as one event per
channel x purpose. The contract gives one new event per POST: the event now keeps "all" as
given, and the state is updated for every channel x purpose it covers.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD = {"channel": "channel IN ('sms', 'voice')",
       "purpose": "purpose IN ('relay', 'transactional', 'marketing')"}
NEW = {"channel": "channel IN ('sms', 'voice', 'all')",
       "purpose": "purpose IN ('relay', 'transactional', 'marketing', 'all')"}


def _replace_checks(checks: dict[str, str]) -> None:
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        for name, condition in checks.items():
            batch_op.drop_constraint(op.f(f"ck_consent_events_{name}"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_consent_events_{name}"), condition)


def upgrade() -> None:
    _replace_checks(NEW)


def downgrade() -> None:
    # Events recorded for "all" cannot be split afterwards (the ledger is append-only, and its
    # order is its ids'): refused, naming them, rather than failing on the check constraint.
    recorded = op.get_bind().scalar(sa.text(
        "SELECT count(*) FROM consent_events WHERE channel = 'all' OR purpose = 'all'"))
    if recorded:
        raise RuntimeError(
            f"cannot downgrade below 0006: {recorded} consent events were recorded for channel"
            " or purpose 'all', which revision 0005 cannot hold (consent events are never"
            " changed or deleted); nothing was changed")
    _replace_checks(OLD)
