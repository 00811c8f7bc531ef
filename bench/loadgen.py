"""Run wrk with bench/lua/replay.lua from a separate process and read its JSON summary."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua" / "replay.lua"
THREADS = 2
TIMEOUT = "15s"  # Twilio gives a webhook 15 seconds
RELAY_CONNECTIONS = 16
SESSION_CONNECTIONS = 8
CONSENT_CONNECTIONS = 16


def wrk(port: int, prefix: Path, *, connections: int, seconds: float, expect: str = "",
        threads: int = THREADS) -> dict:
    """One wrk run replaying <prefix>_<thread>.req; returns replay.lua's summary."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s",
               f"--timeout={TIMEOUT}", "-s", str(LUA), f"http://127.0.0.1:{port}",
               "--", str(prefix), expect]
    result = subprocess.run(command, capture_output=True, text=True,
                            timeout=seconds + 120)
    for line in result.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            summary = json.loads(line[len("BENCH_JSON "):])
            summary["connections"] = connections
            summary["threads"] = threads
            return summary
    raise RuntimeError(f"wrk gave no summary (exit {result.returncode}):\n"
                       f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def _ms(summary: dict, key: str) -> float | None:
    return summary["latency_ms"].get(key)


def _errors(summary: dict) -> int:
    return sum(summary["socket_errors"].values()) + summary["non_2xx"]


def measured(summary: dict, rss: float | None) -> dict:
    """The figures of one wrk run as they go into results.json."""
    return {
        "rps": round(summary["rps"], 1), "p50_ms": _ms(summary, "p50"),
        "p90_ms": _ms(summary, "p90"), "p99_ms": _ms(summary, "p99"),
        "max_ms": _ms(summary, "max"), "requests": summary["requests"],
        "errors": _errors(summary), "non_2xx": summary["non_2xx"],
        "socket_errors": summary["socket_errors"], "statuses": summary["statuses"],
        "unexpected_body": summary["unexpected_body"], "repeated_requests": summary["wrapped"],
        "connections": summary["connections"], "duration_s": summary["duration_s"],
        "worker_peak_rss_mb": rss,
    }
