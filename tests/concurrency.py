"""Real concurrency for tests: each job in its own thread and database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent write transactions; SQLite runs one writer at a time",
)


def race(jobs: list[Callable[[], object]], *, may_fail: bool = False) -> list[object]:
    """Run every job in its own thread and database connection, released together; with
    ``may_fail`` a job's exception is its result, otherwise any one fails the test."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except Exception as error:  # reported below, with the job's index
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    failures = [r for r in results if isinstance(r, Exception)]
    assert may_fail or not failures, failures
    return results
