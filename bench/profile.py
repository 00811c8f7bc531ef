"""Profile under load: py-spy samples every gunicorn worker while wrk replays requests.

Wall-clock samples (--idle), so time spent waiting on PostgreSQL shows up as such; only the
samples inside gunicorn's handle_request count (a worker idling in accept() is not the relay).
Writes the folded stacks to bench/.work/ and a readable summary to bench/profile.txt.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench import loadgen
from bench.environment import ROOT, WORK, log
from bench.loadgen import CONSENT_CONNECTIONS, RELAY_CONNECTIONS, SESSION_CONNECTIONS

PROFILE_REPORT = ROOT / "bench" / "profile.txt"
REQUEST_FRAME = "handle_request (gunicorn/workers/sync.py"
_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^()]*?):(?P<line>\d+)\)$")

# Where a sample's innermost frame is, by file; the first pattern that matches wins.
CATEGORIES = (
    ("waiting on PostgreSQL", ("Connection.wait (psycopg/", "(psycopg/waiting.py",
                               "(psycopg/generators.py", "(psycopg_binary/", "(psycopg/pq/")),
    ("psycopg (Python side)", ("psycopg/",)),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("encryption (Fernet)", ("cryptography/",)),
    ("twilio (signature, TwiML)", ("twilio/",)),
    ("phone numbers", ("phonenumbers/",)),
    ("logging", ("(logging/", "commsvc/logging_setup.py", "commsvc/log_masking/")),
    ("Flask / Werkzeug / smorest", ("flask/", "werkzeug/", "flask_smorest/", "webargs/",
                                    "marshmallow/")),
    ("gunicorn / sockets", ("gunicorn/", "socket.py", "selectors.py")),
    ("commsvc / webhooks code", ("commsvc/", "webhooks/")),
)


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "py-spy"],
                       check=True)
    return found


def record(master_pid: int, seconds: float, out: Path) -> subprocess.Popen:
    """Start sampling the master and its workers; returns the running py-spy."""
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [py_spy(), "record", "--pid", str(master_pid), "--subprocesses", "--idle",
         "--nonblocking", "--rate", "250", "--duration", f"{seconds:g}", "--format", "raw",
         "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.5)  # let it attach before the load starts
    return proc


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for part in stack.split(";"):
        match = _FRAME.match(part.strip())
        if match:
            frames.append((match["func"], match["file"]))
    return frames


def _category(frame: str) -> str:
    for name, patterns in CATEGORIES:
        if any(p in frame for p in patterns):
            return name
    return "other (stdlib, ...)"


def _short(func: str, file: str) -> str:
    for marker in ("site-packages/", "/work/main/", "/lib/python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    file = re.sub(r"^.*?/bench/\.work/tree-[0-9a-f]+/", "", file)
    return f"{func} ({file})"


def summarise(folded: Path, top: int = 25) -> dict:
    """Share of request time per category (innermost frame) and per function (inclusive)."""
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    total = 0
    for line in folded.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if REQUEST_FRAME not in stack or not count.isdigit():
            continue
        n = int(count)
        frames = _frames(stack)
        if not frames:
            continue
        total += n
        leaf_func, leaf_file = frames[-1]
        self_time[_short(leaf_func, leaf_file)] += n
        categories[_category(_short(leaf_func, leaf_file))] += n
        after_request = False
        seen = set()
        for func, file in frames:
            after_request = after_request or func.endswith("handle_request")
            name = _short(func, file)
            if after_request and name not in seen:
                seen.add(name)
                inclusive[name] += n

    def shares(counter: Counter[str], limit: int) -> list[dict]:
        return [{"name": name, "percent": round(100 * n / total, 1)}
                for name, n in counter.most_common(limit)]

    ours = Counter({name: n for name, n in inclusive.items()
                    if "(commsvc/" in name or "(webhooks/" in name})
    return {"samples": total, "categories": shares(categories, 20),
            "inclusive": shares(inclusive, top), "inclusive_service": shares(ours, top),
            "self": shares(self_time, top)}


def write_report(sections: list[tuple[str, dict]], path: Path) -> None:
    """One section per profiled path: categories, the service's functions, all functions."""
    lines = ["# Profiles under load (py-spy, wall clock, samples inside handle_request)"]
    for title, summary in sections:
        lines += ["", f"## {title}", "", f"{summary['samples']} samples.", "",
                  "### Where the time goes (innermost frame)"]
        lines += [f"{row['percent']:5.1f}%  {row['name']}" for row in summary["categories"]]
        lines += ["", "### Inclusive time of the service's own functions"]
        lines += [f"{row['percent']:5.1f}%  {row['name']}" for row in summary["inclusive_service"]]
        lines += ["", "### Inclusive time per function, all code"]
        lines += [f"{row['percent']:5.1f}%  {row['name']}" for row in summary["inclusive"]]
        lines += ["", "### Self time per function"]
        lines += [f"{row['percent']:5.1f}%  {row['name']}" for row in summary["self"]]
    path.write_text("\n".join(lines) + "\n")


# What --profile can sample: request files, connections, the text a good answer contains.
PROFILED = {
    "relay": ("relay_profile", RELAY_CONNECTIONS, "<Message"),
    "sessions": ("sessions_profile", SESSION_CONNECTIONS, '"proxy_number"'),
    "consent": ("consent", CONSENT_CONNECTIONS, '"allowed"'),
}


def run_profiles(web, port: int, out: Path, names: list[str], seconds: float,
                 commit: str) -> dict:
    """py-spy over the workers while wrk replays each named path; bench/profile.txt."""
    results, sections = {}, []
    for name in names:
        prefix, connections, expect = PROFILED[name]
        log(f"bench: profiling {name} under load for {seconds:g} s (py-spy)")
        folded = WORK / f"{name}-profile.folded"
        spy = record(web.master(), seconds + 1, folded)
        summary = loadgen.wrk(port, out / prefix, connections=connections, seconds=seconds,
                              expect=expect)
        _, err = spy.communicate(timeout=120)
        if spy.returncode != 0 or not folded.exists():
            log(f"bench: py-spy failed: {err.decode()[-1000:]}")
            results[name] = {"error": "py-spy failed"}
            continue
        result = summarise(folded)
        sections.append((f"{name} (commit {commit[:12]}, {summary['rps']:.0f} rps under"
                         f" py-spy, {connections} connections)", result))
        results[name] = {
            "rps_under_profiler": round(summary["rps"], 1), "answered_2xx": summary["ok"],
            "samples": result["samples"], "categories": result["categories"],
            "top_service_functions": result["inclusive_service"][:15],
            "report": "bench/profile.txt"}
    if sections:
        write_report(sections, PROFILE_REPORT)
    return results
