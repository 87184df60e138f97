"""Counting SQL statements the way production runs them.

Inside a test, ``transaction.atomic`` becomes SAVEPOINT/RELEASE pairs that production does
not send (there it is BEGIN/COMMIT, which Django does not log), so those are left out.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.test.utils import CaptureQueriesContext

TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@contextmanager
def count_statements() -> Iterator[list[str]]:
    """Yield a list that, after the block, holds the SQL statements the block ran."""
    statements: list[str] = []
    with CaptureQueriesContext(connection) as context:
        yield statements
    statements.extend(
        query["sql"]
        for query in context.captured_queries
        if not query["sql"].lstrip().upper().startswith(TRANSACTION_CONTROL)
    )
