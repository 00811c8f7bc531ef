"""Bulk loading into PostgreSQL: parallel COPY streams, indexes and constraints built after."""
from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg

COPY_CHUNK_ROWS = 50_000
INDEX_DEFS_SQL = """
SELECT 'index', indexrelid::regclass::text, pg_get_indexdef(indexrelid)
FROM pg_index
WHERE indrelid = %(table)s::regclass AND NOT indisprimary
  AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = %(table)s::regclass)
UNION ALL
SELECT 'constraint', conname, pg_get_constraintdef(oid)
FROM pg_constraint
WHERE conrelid = %(table)s::regclass AND contype IN ('u', 'f')
"""
SESSION_SETTINGS = ("SET synchronous_commit = off", "SET maintenance_work_mem = '256MB'")
LOAD_STREAMS = 2  # parallel COPY streams and index builds (one per core of the target machine)


def connect(conninfo: str) -> psycopg.Connection:
    conn = psycopg.connect(conninfo, autocommit=True)
    for statement in SESSION_SETTINGS:
        conn.execute(statement)
    return conn


def _in_parallel(conninfo: str, jobs: list, run) -> list:
    """run(conn, job) for every job, on LOAD_STREAMS connections of their own."""
    def worker(chunk):
        with connect(conninfo) as conn:
            return [run(conn, job) for job in chunk]

    chunks = [jobs[i::LOAD_STREAMS] for i in range(LOAD_STREAMS)]
    with ThreadPoolExecutor(max_workers=LOAD_STREAMS) as pool:
        return [r for chunk_result in pool.map(worker, chunks) for r in chunk_result]


def _copy(conn, table: str, columns: tuple[str, ...], lines: Iterator[str]) -> int:
    """COPY text-format lines (tab-separated, \\N for NULL) into a table; returns the row count."""
    count = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= COPY_CHUNK_ROWS:
                copy.write("".join(chunk))
                count += len(chunk)
                chunk = []
        if chunk:
            copy.write("".join(chunk))
            count += len(chunk)
    return count


def bulk_load(conninfo: str, table: str, columns: tuple[str, ...],
              parts: list[Iterator[str]]) -> tuple[int, float]:
    """Load a table from parallel streams of COPY lines; returns (rows, seconds of index builds).

    The table's secondary indexes, unique and foreign-key constraints are read from the catalog
    and dropped first, then built again in parallel (one sort per index instead of a million
    insertions and trigger calls), so schema changes need no change here.
    """
    with connect(conninfo) as conn:
        defs = conn.execute(INDEX_DEFS_SQL, {"table": table}).fetchall()
        for kind, name, _ in defs:
            if kind == "index":
                conn.execute(f'DROP INDEX "{name}"')
            else:
                conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    rows = sum(_in_parallel(conninfo, parts, lambda conn, part: _copy(conn, table, columns, part)))
    started = time.perf_counter()
    statements = [definition if kind == "index"
                  else f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                  for kind, name, definition in defs]
    # Unique and foreign-key constraints lock the whole table: they go last, one at a time.
    builds = [s for s in statements if not s.startswith("ALTER TABLE")]
    _in_parallel(conninfo, builds, lambda conn, statement: conn.execute(statement))
    with connect(conninfo) as conn:
        for statement in statements:
            if statement.startswith("ALTER TABLE"):
                conn.execute(statement)
    return rows, time.perf_counter() - started
