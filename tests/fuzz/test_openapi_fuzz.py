"""Schemathesis against /openapi.json with an admin key: no 5xx, every response as documented."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from commsvc.pool.models import ProxyNumber

EXAMPLES_PER_OPERATION = 30
# Schema-valid but semantically invalid input (a string that is no phone number) is rightly a
# 422, so positive_data_acceptance does not apply; everything else the issue asks for does.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
]


def test_every_operation_never_errors_and_matches_its_schema(app, api_key, db, clock):
    # A few numbers so that session creation can succeed as well as fail.
    for i in range(3):
        db.add(ProxyNumber(phone_number=f"+1646555{i:04d}", country_code=1, area_code="646",
                           sms=True, voice=True, mms=False, status="active",
                           created_at=clock()))
    db.commit()
    headers = api_key("admin")
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI document lists no operations"

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                  database=None, suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()
