"""The personal-data registry classifies every column of every table, and only real ones."""
from commsvc.models import metadata
from commsvc.records import registry
from commsvc.records.registry import NotPersonal, Personal


def test_every_column_of_every_table_is_classified():
    unclassified = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if registry.classification(table.name, column.name) is None
    ]
    assert unclassified == [], (
        "classify these columns in commsvc/records/registry.py (personal: kind, retention,"
        " erasure; or NotPersonal with why)")


def test_registry_lists_no_column_that_does_not_exist():
    real = {(t.name, c.name) for t in metadata.sorted_tables for c in t.columns}
    stale = [f"{table}.{column}" for table, columns in registry.REGISTRY.items()
             for column in columns if (table, column) not in real]
    assert stale == []


def test_personal_entries_name_a_known_kind_retention_period_and_erasure_action():
    for table, column, entry in registry.personal_columns():
        where = f"{table}.{column}"
        assert entry.kind in registry.KINDS, where
        assert entry.erasure in registry.ERASURE_ACTIONS, where
        if entry.retention is None:
            assert entry.note, f"{where}: kept without a period must say why"
        else:
            assert entry.retention in registry.RETENTION_PERIODS, where


def test_non_personal_entries_say_why():
    for columns in registry.REGISTRY.values():
        for entry in columns.values():
            assert isinstance(entry, Personal | NotPersonal)
            if isinstance(entry, NotPersonal):
                assert entry.why.strip()


def test_every_column_holding_a_real_number_is_personal():
    phone_columns = [("messages", "from_phone"), ("messages", "to_phone"),
                     ("messages", "forward_to"), ("calls", "from_phone"), ("calls", "to_phone"),
                     ("calls", "forward_to"), ("session_participants", "phone"),
                     ("session_participants", "counterpart_phone"),
                     ("outbound_messages", "to_phone"), ("consent_events", "phone")]
    for table, column in phone_columns:
        entry = registry.classification(table, column)
        assert isinstance(entry, Personal) and entry.kind == "phone", f"{table}.{column}"
