"""Start and stop the Procfile's web process; find its gunicorn workers and their peak memory."""
from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

SERVICE_APP_SPEC = "commsvc.app:create_app()"
CEILING_APP_SPEC = "bench.ceiling:create_app()"


def web_command(procfile: Path, app_spec: str | None = None) -> str:
    """The Procfile's `web:` line; with app_spec, the same line serving another WSGI app."""
    for line in procfile.read_text().splitlines():
        if line.startswith("web:"):
            command = line[len("web:"):].strip()
            break
    else:
        raise RuntimeError(f"{procfile} has no web: line")
    if app_spec is None:
        return command
    swapped, count = re.subn(r"""(["']?)commsvc\.app:create_app\(\)\1""",
                             shlex.quote(app_spec), command)
    if count != 1:
        raise RuntimeError(f"cannot find the app spec {SERVICE_APP_SPEC} in: {command}")
    return swapped


def _stat(pid: int) -> tuple[int, int] | None:
    """(ppid, session id) of a process, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[3])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class WebProcess:
    """One `sh -c "<web line>"` in its own session (so it and its workers stop together)."""

    def __init__(self, command: str, *, env: dict, cwd: Path, log_path: Path, port: int):
        self.command, self.env, self.cwd, self.log_path, self.port = (
            command, env, cwd, log_path, port)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> WebProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["sh", "-c", self.command], cwd=self.cwd, env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"web process exited ({self.proc.returncode});"
                                   f" see {self.log_path}")
            if self._healthy() and len(self.workers()) >= int(self.env["WEB_CONCURRENCY"]):
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"web process not healthy after {timeout:.0f} s; see {self.log_path}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _tree(self) -> dict[int, int]:
        """pid -> ppid of every process in this web process's session."""
        assert self.proc is not None
        tree = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                info = _stat(int(entry))
                if info and info[1] == self.proc.pid:
                    tree[int(entry)] = info[0]
        return tree

    def pids(self) -> set[int]:
        """Every process of this web process (sh, gunicorn master, workers)."""
        return set(self._tree())

    def master(self) -> int | None:
        tree = self._tree()
        # The sh that runs the web line (unless it exec'd gunicorn) mentions gunicorn too.
        gunicorns = {pid for pid in tree
                     if "gunicorn" in _cmdline(pid) and not _cmdline(pid).startswith("sh ")}
        masters = [pid for pid in gunicorns if tree[pid] not in gunicorns]
        return masters[0] if masters else None

    def workers(self) -> list[int]:
        master = self.master()
        return sorted(pid for pid, ppid in self._tree().items() if ppid == master)

    def worker_peak_rss_mb(self) -> float | None:
        """The largest VmHWM (peak resident set) among the workers, in MiB."""
        peaks = []
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                peaks.append(int(match.group(1)) / 1024)
        return round(max(peaks), 1) if peaks else None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> WebProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
