"""The machine a run happened on, results.json, and the printed table."""
from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from pathlib import Path

GOALS = {
    "relay.ratio": (">=", 0.6),
    "relay.p99_ms": ("<=", 50.0),
    "sessions.per_s": (">=", 300.0),
    "consent_check.ratio": (">=", 0.6),
}


def _first(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    return match.group(1).strip() if match else None


def _version(command: list[str]) -> str | None:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else None


def machine(pg_version: str, python: str) -> dict:
    meminfo = Path("/proc/meminfo").read_text()
    cpuinfo = Path("/proc/cpuinfo").read_text()
    mem_kb = int(_first(r"^MemTotal:\s+(\d+)", meminfo) or 0)
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu_model": _first(r"^model name\s*:\s*(.+)$", cpuinfo),
        "kernel": platform.release(),
        "postgresql": pg_version,
        "python": _version([python, "--version"]),
        "gunicorn": _version([python, "-m", "gunicorn", "--version"]),
        "wrk": _version(["wrk", "--version"]),
    }


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def get(results: dict, dotted: str):
    value = results
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def goals(results: dict) -> dict:
    verdicts = {}
    for name, (op, target) in GOALS.items():
        value = get(results, name)
        met = None if value is None else (value >= target if op == ">=" else value <= target)
        verdicts[name] = {"goal": f"{op} {target:g}", "value": value, "met": met}
    return verdicts


def write(results: dict, path: Path) -> None:
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(results: dict) -> str:
    rows = [("benchmark", "rps", "p50 ms", "p99 ms", "ratio", "errors", "worker RSS MB",
             "CPU bench/others %")]

    def row(label: str, key: str, rate: str = "rps", ratio: str | None = "ratio"):
        part = results.get(key) or {}
        errors = part.get("errors")
        share = part.get("cpu") or {}
        rows.append((label, _fmt(part.get(rate)), _fmt(part.get("p50_ms")),
                     _fmt(part.get("p99_ms")), _fmt(part.get(ratio), 2) if ratio else "",
                     _fmt(errors), _fmt(part.get("worker_peak_rss_mb")),
                     f"{_fmt(share.get('benchmark_percent'), 0)}/"
                     f"{_fmt(share.get('others_percent'), 0)}"))

    row("ceiling (bare Flask, POST form)", "ceiling", ratio=None)
    row("inbound SMS relay, 16 conn", "relay")
    row("session creation, 8 conn (per s)", "sessions", rate="per_s", ratio=None)
    row("consent check, 16 conn", "consent_check")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    for key in ("ceiling", "relay", "sessions", "consent_check"):
        per = (results.get(key) or {}).get("cpu_ms_per_request")
        if per:
            lines.append(f"CPU ms per request, {key}: " + ", ".join(
                f"{name} {value:.2f}" for name, value in per.items()))
    lines.append("")
    for name, verdict in results.get("goals", {}).items():
        mark = {True: "met", False: "NOT met", None: "not measured"}[verdict["met"]]
        lines.append(f"goal {name} {verdict['goal']}: {_fmt(verdict['value'], 2)} -> {mark}")
    relay = results.get("relay") or {}
    lines.append(f"db round trips per relayed text: {_fmt(relay.get('db_round_trips'))}"
                 f" ({_fmt(relay.get('db_statements_count'))} SQL statements)")
    lines.append(f"worker peak RSS: {_fmt(results.get('worker_peak_rss_mb'))} MB;"
                 f" load average at start {results.get('load', {}).get('start')}")
    return "\n".join(lines)
