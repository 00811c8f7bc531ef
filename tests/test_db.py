"""Database session settings the service relies on."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from commsvc.db import PLAN_CACHE_MODE


@pytest.mark.pg_only
def test_service_connections_reuse_one_generic_plan_per_prepared_statement(connection):
    assert connection.scalar(sa.text("SHOW plan_cache_mode")) == PLAN_CACHE_MODE == (
        "force_generic_plan")
