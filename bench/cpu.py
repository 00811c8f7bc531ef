"""How much of the machine a measurement had: CPU used by the benchmark vs by everything else.

The machine may be shared (other test suites, other databases): a run reports, per phase, the
share of all cores that went to the benchmark (gunicorn master and workers, wrk, the bench
database's PostgreSQL backends) and the share that went to anything else. A large "others"
share means the figures of that phase are low for reasons outside the service.
"""
from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

TICKS = os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float]:
    """(busy seconds, total seconds) of all cores since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
    idle = fields[3] + fields[4]
    return (total - idle) / TICKS, total / TICKS


def _process_seconds(pid: int) -> float:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def backend_pids(database_url: str, database: str) -> set[int]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                            (database,)).fetchall()
    return {row[0] for row in rows}


@dataclass
class Sample:
    busy: float
    total: float
    children: float
    processes: dict[str, dict[int, float]]


class Meter:
    """Start before a measurement and stop after it.

    groups: name -> a function returning the pids of that part of the benchmark (the web
    process, the bench database's backends); wrk, a finished child of this process, is counted
    from this process's children's resource usage.
    """

    def __init__(self, groups: dict):
        self.groups = groups
        self.start: Sample | None = None

    def _sample(self) -> Sample:
        busy, total = _machine_busy()
        return Sample(busy, total, _children_seconds(),
                      {name: {pid: _process_seconds(pid) for pid in pids()}
                       for name, pids in self.groups.items()})

    def begin(self) -> None:
        self.start = self._sample()

    def end(self) -> dict:
        assert self.start is not None
        end = self._sample()
        capacity = end.total - self.start.total
        if capacity <= 0:
            return {}
        seconds = {"wrk": end.children - self.start.children}
        for name, processes in end.processes.items():
            before = self.start.processes.get(name, {})
            seconds[name] = sum(s - before.get(pid, 0.0) for pid, s in processes.items())
        ours = sum(seconds.values())
        busy = end.busy - self.start.busy
        return {"benchmark_percent": round(100 * ours / capacity, 1),
                "others_percent": round(100 * max(0.0, busy - ours) / capacity, 1),
                "idle_percent": round(100 * max(0.0, capacity - busy) / capacity, 1),
                "cpu_seconds": {name: round(value, 2) for name, value in seconds.items()},
                "wall_s": round(capacity / (os.cpu_count() or 1), 1)}


def busy_percent(seconds: float = 5.0) -> float:
    """Share of all cores busy over the next few seconds (nothing of ours is running yet)."""
    busy0, total0 = _machine_busy()
    time.sleep(seconds)
    busy1, total1 = _machine_busy()
    return round(100 * (busy1 - busy0) / max(total1 - total0, 1e-9), 1)


def wait_until_quiet(limit_s: float, threshold: float = 25.0, log=print) -> float:
    """Wait (at most limit_s) for the machine's busy share to fall under threshold percent."""
    deadline = time.monotonic() + limit_s
    busy = busy_percent()
    while busy > threshold and time.monotonic() < deadline:
        log(f"bench: machine {busy:.0f}% busy with other work; waiting for it to quiet down")
        busy = busy_percent(10)
    return busy
