"""Where and how each stay in a stage ends, stored on the history row that started it.

``deal_move`` keeps ``StageChange.ended_at``/``ended_by`` (and copies of the ending row's
``kind`` and ``to_stage``: ``ended_kind``/``ended_to_stage``) up to date as it writes each row.
Anything that writes history in bulk (the demo seeder, the benchmark, hand-made test
histories) calls ``stage_changes_link_stays`` afterwards: one statement that sets them from
each deal's history in order, exactly as the stage metrics define a stay (docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from pipeline.stays import ENDS_STAY_SQL, STARTS_STAY_SQL

# Each stay-starting row (an open deal put in a stage) ends with the deal's next row that is
# not a reorder or an owner change, in (changed_at, id) order. Plain SQL that PostgreSQL and
# SQLite (3.39+) both run; only the rows whose stored end differs are written.
LINK_STAYS_SQL = (
    """
UPDATE pipeline_stagechange
SET ended_at = nxt.next_at, ended_by_id = nxt.next_id,
    ended_kind = COALESCE(nxt.next_kind, ''), ended_to_stage_id = nxt.next_stage_id
FROM (
    SELECT id, LEAD(changed_at) OVER w AS next_at, LEAD(id) OVER w AS next_id,
           LEAD(kind) OVER w AS next_kind, LEAD(to_stage_id) OVER w AS next_stage_id
    FROM pipeline_stagechange
    WHERE """
    + ENDS_STAY_SQL
    + """{deals}
    WINDOW w AS (PARTITION BY deal_id ORDER BY changed_at, id)
) AS nxt
WHERE pipeline_stagechange.id = nxt.id
  AND """
    + STARTS_STAY_SQL  # unqualified names: only the updated table has kind and to_status
    + """
  AND (pipeline_stagechange.ended_by_id IS DISTINCT FROM nxt.next_id
       OR pipeline_stagechange.ended_at IS DISTINCT FROM nxt.next_at
       OR pipeline_stagechange.ended_kind IS DISTINCT FROM COALESCE(nxt.next_kind, '')
       OR pipeline_stagechange.ended_to_stage_id IS DISTINCT FROM nxt.next_stage_id)
"""
)


def stage_changes_link_stays(deal_ids: Iterable[int] | None = None) -> int:
    """Recompute where every stay ends (of the given deals, or of all), in one statement.

    Returns the number of history rows whose stored end changed.
    """
    params: list[int] = []
    deals = ""
    if deal_ids is not None:
        params = [int(pk) for pk in deal_ids]
        if not params:
            return 0
        deals = f" AND deal_id IN ({', '.join(['%s'] * len(params))})"
    with connection.cursor() as cursor:
        cursor.execute(LINK_STAYS_SQL.format(deals=deals), params)
        return cursor.rowcount
