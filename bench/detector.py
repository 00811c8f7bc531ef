"""The opt-out detector's CPU: detect() per text over the labelled corpus, and on long bodies.

    .venv/bin/python -m bench.detector            # best of 5, CPU time of this process
    PYTHONPATH=<other tree> .venv/bin/python -m bench.detector   # the same for another tree

CPU time (time.process_time), not wall time: on a shared machine other work stretches the wall
clock, not this process's CPU. Not a test: tests never assert on time.
"""
from __future__ import annotations

import csv
import time
import timeit
from pathlib import Path

from commsvc.consent.detector import detect

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "consent" / "optout_corpus.tsv"
REPEAT = 5
# Bodies past Twilio's 1,600 characters (the webhook takes up to 64 KB): the worst found read
# many clauses each starting with a word that many phrases start with ("no", "i").
LONG = [
    ("'no, ' x 400 (1.6 KB)", "no, " * 400),
    ("'no, ' x 2048 (8 KB)", "no, " * 2048),
    ("'i, ' x 2730 (8 KB)", "i, " * 2730),
    ("'no, ' x 16384 (64 KB)", "no, " * 16384),
    ("8 KB, then 'stop texting me'", "no, " * 2048 + "stop texting me"),
    ("'stop texting me.', then 8 KB", "stop texting me. " + "ok, " * 2048),
]


def _best(run, number: int = 1) -> float:
    return min(timeit.repeat(run, timer=time.process_time, number=number,
                             repeat=REPEAT)) / number


def main() -> None:
    with CORPUS.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    texts = [(row[3], row[2] == "1") for row in rows]

    def corpus() -> None:
        for text, opted_out in texts:
            detect(text, opted_out=opted_out)

    best = _best(corpus)
    print(f"corpus: {len(texts)} texts, best of {REPEAT}: {best * 1e3:.1f} ms,"
          f" {best / len(texts) * 1e6:.1f} µs a text")
    for name, text in LONG:
        best = _best(lambda text=text: detect(text), number=3)
        print(f"{name:32s} {best * 1e3:8.2f} ms  {detect(text).intent.value}")


if __name__ == "__main__":
    main()
