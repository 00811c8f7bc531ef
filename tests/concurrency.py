"""Run one call from several threads released together (PostgreSQL race tests)."""
from __future__ import annotations

import threading
from collections.abc import Callable


def all_at_once(count: int, call: Callable[[], object], timeout: float = 30) -> list:
    """What `count` threads' calls returned, each call started at the same moment."""
    start = threading.Barrier(count, timeout=timeout)
    answers: list = []

    def run() -> None:
        start.wait()
        answers.append(call())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return answers
