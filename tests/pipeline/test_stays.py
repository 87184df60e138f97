"""The one rule of what a stay is and how it ends, and its SQL forms held equal to it."""

import datetime as dt
import itertools
import re

import pytest
from django.db import connection

from pipeline.models import StageChange
from pipeline.stays import (
    ENDS_STAY_SQL,
    NOT_HISTORY_KINDS,
    OUTCOME_SQL,
    STARTS_STAY_SQL,
    STAY_KINDS,
    ends_stay,
    starts_stay,
    stay_outcome,
)

UNTIL = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
KINDS = [kind for kind, _label in StageChange.Kind.choices]


@pytest.mark.parametrize(
    ("ended_at", "kind", "next_position", "expected"),
    [
        (None, "", None, "open"),
        (UNTIL, "stage", 3, "open"),  # ends exactly at the end of what is measured
        (UNTIL + dt.timedelta(days=1), "lost", 1, "open"),
        (UNTIL - dt.timedelta(seconds=1), "won", 5, "on"),
        (UNTIL - dt.timedelta(days=1), "lost", 2, "lost"),
        (UNTIL - dt.timedelta(days=1), "pipeline", 9, "away"),
        (UNTIL - dt.timedelta(days=1), "stage", None, "away"),  # a stage of another pipeline
        (UNTIL - dt.timedelta(days=1), "stage", 3, "on"),
        (UNTIL - dt.timedelta(days=1), "stage", 1, "back"),
        (UNTIL - dt.timedelta(days=1), "reopened", 2, "back"),  # same position: not forward
    ],
)
def test_how_a_stay_ended(ended_at, kind, next_position, expected):
    outcome = stay_outcome(
        ended_at=ended_at, ended_kind=kind, until=UNTIL, position=2, next_position=next_position
    )
    assert outcome == expected


def test_which_rows_start_and_end_a_stay():
    assert {k for k in KINDS if starts_stay(k, "open")} == set(STAY_KINDS)
    assert not any(starts_stay(kind, status) for kind in KINDS for status in ("won", "lost"))
    assert {k for k in KINDS if not ends_stay(k)} == set(NOT_HISTORY_KINDS)
    assert set(STAY_KINDS) | set(NOT_HISTORY_KINDS) | {"won", "lost"} == set(KINDS)


@pytest.mark.django_db
def test_the_sql_forms_select_the_same_rows_as_the_rule():
    """Every (kind, status) pair as a history row: the SQL filters keep exactly the rows the
    Python rule says start a stay, or are history at all."""
    pairs = list(itertools.product(KINDS, ["open", "won", "lost"]))
    values = ", ".join("(%s, %s)" for _ in pairs)
    params = [item for pair in pairs for item in pair]
    with connection.cursor() as cursor:
        for condition, rule in (
            (STARTS_STAY_SQL, lambda kind, status: starts_stay(kind, status)),
            (ENDS_STAY_SQL, lambda kind, status: ends_stay(kind)),
        ):
            cursor.execute(
                f"WITH t(kind, to_status) AS (VALUES {values}) "
                f"SELECT kind, to_status FROM t WHERE {condition}",
                params,
            )
            assert set(cursor.fetchall()) == {pair for pair in pairs if rule(*pair)}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the outcome's SQL uses PostgreSQL arrays"
)
@pytest.mark.django_db
def test_the_sql_outcome_equals_the_rule_case_by_case():
    stage_ids, positions = [11, 12, 13], [0, 1, 2]
    position = dict(zip(stage_ids, positions, strict=True))
    times = [None, UNTIL - dt.timedelta(hours=1), UNTIL, UNTIL + dt.timedelta(hours=1)]
    cases = list(itertools.product(times, KINDS, stage_ids, [*stage_ids, 99, None]))
    rows = ", ".join("(%s::timestamptz, %s, %s::bigint, %s::bigint)" for _ in cases)
    sql = OUTCOME_SQL.format(end="%s", stage_ids="%s", positions="%s")
    values = {"end": UNTIL, "stage_ids": stage_ids, "positions": positions}
    order = re.findall(r"\{(\w+)\}", OUTCOME_SQL)  # its placeholders, in text order
    params = [values[name] for name in order] + [v for case in cases for v in case]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql} FROM (VALUES {rows}) AS o(ended_at, ended_kind, to_stage_id, "
            "ended_to_stage_id)",
            params,
        )
        got = [row[0] for row in cursor.fetchall()]
    expected = [
        stay_outcome(
            ended_at=ended_at,
            ended_kind=kind,
            until=UNTIL,
            position=position[stage],
            next_position=position.get(next_stage),
        )
        for ended_at, kind, stage, next_stage in cases
    ]
    assert got == expected
