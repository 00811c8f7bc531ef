"""The schema is made by migrations, and the migrations match the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from commsvc.models import metadata


def test_migrations_match_the_models(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                           "compare_server_default": True})
    differences = compare_metadata(context, metadata)
    assert differences == []
