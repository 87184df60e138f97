"""The benchmark behind `make bench`: server time and SQL counts of the hot paths.

It seeds a dedicated PostgreSQL database (``<name>_bench`` beside ``DATABASE_URL``, or
``crm_bench`` on 127.0.0.1) at two sizes, then measures, in-process and over HTTP:

- the board page (admin: every deal; manager: one team) and a move, median and p95;
- the same cards read by one plain SQL query, as the floor;
- board views per second through gunicorn, and the web workers' resident memory;
- the reports page (stage metrics, this quarter) over 20 reps, 100,000 deals and about
  1,000,000 history rows, beside one hand-written SQL doing the same core aggregation.

``--only board`` or ``--only reports`` runs one part (``make bench BENCH_ARGS="--only reports"``).

Speed is reported here, never asserted in timed tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def quiet_logs() -> None:
    """Keep the figures readable: every test-client sign-in makes django-axes log four INFO
    lines. Warnings and errors still show."""
    logging.getLogger("axes").setLevel(logging.WARNING)


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://…")
    name = parts.path.lstrip("/") or "crm"
    return urlunsplit(parts._replace(path=f"/{name}_bench"))


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def timed(fn, repeat: int, setup=None) -> tuple[float, float, int]:
    """Median and p95 in milliseconds, and the SQL statements of one run.

    ``setup`` runs before each call, outside the timing and the count. Transaction control
    (BEGIN, COMMIT, savepoints) is not counted as a statement.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    setup = setup or (lambda: None)
    setup()
    fn()  # warm caches and connections
    setup()
    with CaptureQueriesContext(connection) as captured:
        fn()
    control = ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK")
    statements = [q for q in captured.captured_queries if not q["sql"].upper().startswith(control)]
    samples = []
    for _ in range(repeat):
        setup()
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), percentile(samples, 0.95), len(statements)


FLOOR_SQL = """
SELECT d.id, d.title, d.value, d.currency, d.position, d.stage_entered_at, d.expected_close_date,
       u.first_name, u.last_name, o.name
FROM pipeline_stage s
CROSS JOIN LATERAL (
    SELECT * FROM pipeline_deal d
    WHERE d.stage_id = s.id AND d.status IN ('open', 'won')
      AND d.status = CASE WHEN s.is_won THEN 'won' ELSE 'open' END
    ORDER BY d.position, d.id
    LIMIT %s
) d
JOIN accounts_user u ON u.id = d.owner_id
LEFT JOIN crm_organization o ON o.id = d.organization_id
WHERE s.pipeline_id = %s AND NOT s.is_archived
"""


def measure_size(label: str, args) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from pipeline.models import Deal, StageChange
    from pipeline.selectors import CARDS_PER_COLUMN, board_stamp, default_pipeline
    from pipeline.services import deal_move

    deals = args.small if label == "small" else args.deals
    start = time.perf_counter()
    call_command("seed_demo", flush=True, deals=deals, reps=args.reps, seed=7, verbosity=0)
    seeded = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    pipeline = default_pipeline()
    admin = User.objects.filter(role="admin").first()
    manager = User.objects.filter(role="manager").first()
    results = {
        "deals": Deal.objects.count(),
        "open": Deal.objects.filter(status="open").count(),
        "history": StageChange.objects.count(),
        "seed_s": seeded,
    }

    client = Client()
    client.force_login(admin)
    manager_client = Client()
    manager_client.force_login(manager)
    # Cold: the first view after someone changed a deal, so the cached columns do not apply.
    touched = Deal.objects.filter(pipeline=pipeline, status="open").order_by("id").first()

    def someone_changed_a_deal():
        Deal.objects.filter(pk=touched.pk).update(updated_at=timezone.now())

    results["board_admin_cold"] = timed(
        lambda: client.get("/"), args.repeat, setup=someone_changed_a_deal
    )
    results["board_manager_cold"] = timed(
        lambda: manager_client.get("/"), args.repeat, setup=someone_changed_a_deal
    )
    # Warm: nothing changed since the last view, as for most views of a busy board.
    results["board_admin"] = timed(lambda: client.get("/"), args.repeat)
    results["board_manager"] = timed(lambda: manager_client.get("/"), args.repeat)
    stamp = board_stamp(pipeline.pk)
    results["poll_idle"] = timed(
        lambda: manager_client.get(
            f"/pipelines/{pipeline.pk}/changes",
            {"stamp": stamp},
            HTTP_HX_REQUEST="true",
        ),
        args.repeat,
    )

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, [CARDS_PER_COLUMN, pipeline.pk])
            cursor.fetchall()

    results["floor"] = timed(floor, args.repeat)

    stages = list(pipeline.stages.filter(is_won=False, is_archived=False).order_by("position"))
    movers = list(
        Deal.objects.filter(status="open", stage__in=stages).order_by("id")[: args.repeat * 2 + 4]
    )
    state = {"i": 0, "deal": None, "target": None}

    def next_mover():
        deal = movers[state["i"] % len(movers)]
        state["i"] += 1
        deal.refresh_from_db(fields=["version", "stage"])
        state["deal"] = deal
        state["target"] = stages[(stages.index(deal.stage) + 1) % len(stages)]

    def one_move():
        deal, target = state["deal"], state["target"]
        deal_move(actor=admin, deal_id=deal.pk, version=deal.version, stage_id=target.pk)

    results["move_service"] = timed(one_move, args.repeat, setup=next_mover)
    results["move_lock"] = timed(lambda: lock_two_columns(stages), args.repeat)
    results["move_one_column"] = moves_into_one_column(admin, stages, args.repeat, movers=0)
    results["move_contended"] = moves_into_one_column(
        admin, stages, args.repeat, movers=CONTENDING_MOVERS
    )
    results["move_elsewhere"] = moves_into_one_column(
        admin, stages, args.repeat, movers=CONTENDING_MOVERS, elsewhere=True
    )

    def one_http_move():
        deal, target = state["deal"], state["target"]
        response = client.post(
            f"/deals/{deal.pk}/move",
            {"version": deal.version, "stage": target.pk, "context": "board"},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200, response.content

    results["move_http"] = timed(one_http_move, args.repeat, setup=next_mover)
    return results


CONTENDING_MOVERS = 20


def lock_two_columns(stages) -> None:
    """What a move adds for column safety: its two stage rows locked, in a transaction."""
    from django.db import transaction

    from pipeline.models import Stage

    with transaction.atomic():
        ids = [stages[1].pk, stages[2].pk]
        list(Stage.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk"))


def moves_into_one_column(
    admin, stages, repeat: int, movers: int, elsewhere: bool = False
) -> tuple[float, float, int]:
    """deal_move of a card into the top of one column (and back out), timed while ``movers``
    other connections (threads of this process) keep moving their own cards into and out of
    that same column, or, ``elsewhere``, between two other columns: the difference between
    the two is what waiting for the column's lock costs, the rest is the shared machine."""
    import threading

    from django.db import connections

    from pipeline.models import Deal
    from pipeline.services import deal_move

    home, target = stages[1], stages[2]
    pool = list(
        Deal.objects.filter(status="open", stage=home).order_by("-id")[: movers * 3 + repeat + 4]
    )
    # Small data sets: fewer cards per other mover, but always some to time.
    per_mover = max(1, min(3, (len(pool) - 2) // max(movers, 1)))
    mine = pool[movers * per_mover :] or pool[-1:]
    theirs = [pool[i * per_mover : (i + 1) * per_mover] for i in range(movers)]
    stop = threading.Event()

    away, further = stages[3], stages[4]
    if elsewhere:  # the others' cards start in a column of their own
        for deals in theirs:
            for deal in deals:
                deal.refresh_from_db(fields=["version", "stage"])
                deal_move(actor=admin, deal_id=deal.pk, version=deal.version, stage_id=away.pk)

    def there_or_back(deal) -> None:
        deal.refresh_from_db(fields=["version", "stage"])
        if elsewhere:
            to = further if deal.stage_id == away.pk else away
        else:
            to = home if deal.stage_id == target.pk else target
        deal_move(actor=admin, deal_id=deal.pk, version=deal.version, stage_id=to.pk)

    def churn(deals) -> None:
        try:
            while not stop.is_set():
                for deal in deals:
                    there_or_back(deal)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=churn, args=(deals,), daemon=True) for deals in theirs]
    for thread in threads:
        thread.start()
    state = {"i": 0}

    def next_card() -> None:
        state["deal"] = mine[state["i"] % len(mine)]
        state["i"] += 1
        state["deal"].refresh_from_db(fields=["version", "stage"])

    def one_move() -> None:
        deal = state["deal"]
        to = home if deal.stage_id == target.pk else target
        deal_move(actor=admin, deal_id=deal.pk, version=deal.version, stage_id=to.pk)

    try:
        return timed(one_move, repeat, setup=next_card)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


# The core of the stage metrics in one hand-written statement: every stay overlapping the
# quarter (each stay-starting row stores when and how it ended), read from the covering index
# in its two ranges, with the time inside the quarter, per rep and stage; no visibility rule,
# no outcomes but losses.
REPORTS_FLOOR_SQL = """
SELECT d.owner_id, o.to_stage_id, COUNT(*) FILTER (WHERE o.changed_at >= %(start)s),
       COUNT(*) FILTER (WHERE o.ended_kind = 'lost' AND o.ended_at < %(end)s),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM
           LEAST(COALESCE(o.ended_at, %(end)s), %(end)s) - GREATEST(o.changed_at, %(start)s)))
FROM (
    SELECT deal_id, to_stage_id, changed_at, ended_at, ended_kind FROM pipeline_stagechange
    WHERE kind IN ('created', 'stage', 'reopened', 'pipeline') AND to_status = 'open'
      AND ended_at > %(start)s AND changed_at < %(end)s
    UNION ALL
    SELECT deal_id, to_stage_id, changed_at, ended_at, ended_kind FROM pipeline_stagechange
    WHERE kind IN ('created', 'stage', 'reopened', 'pipeline') AND to_status = 'open'
      AND ended_at IS NULL AND changed_at < %(end)s
) o
JOIN pipeline_deal d ON d.id = o.deal_id
GROUP BY d.owner_id, o.to_stage_id
"""

# The newest stay-starting rows rewritten, as the moves that end them would (a move ends the
# deal's current stay, which mostly began recently).
UNVACUUMED_ROWS = 20_000
UNVACUUMED_SQL = """
UPDATE pipeline_stagechange SET ended_at = ended_at
WHERE id IN (
    SELECT id FROM pipeline_stagechange
    WHERE kind IN ('created', 'stage', 'reopened', 'pipeline') AND to_status = 'open'
    ORDER BY changed_at DESC LIMIT %(rows)s
)
"""

# More history of the same shape, consistent with every deal's state: while a deal sat in its
# first stage, it went to the next stage and came back, a number of times. Where each stay
# ends is recomputed afterwards (pipeline.history.stage_changes_link_stays).
EXTRA_HISTORY_SQL = """
WITH firsts AS (
    SELECT sc.deal_id, sc.to_stage_id AS stage_id, sc.changed_at AS t0, sc.changed_by_id,
           COALESCE(LEAD(sc.changed_at) OVER w, now()) AS t1, ROW_NUMBER() OVER w AS n
    FROM pipeline_stagechange sc
    WHERE sc.kind NOT IN ('reorder', 'owner')
    WINDOW w AS (PARTITION BY sc.deal_id ORDER BY sc.changed_at, sc.id)
), pairs AS (
    SELECT f.*, nxt.id AS next_stage_id
    FROM firsts f
    JOIN pipeline_stage s ON s.id = f.stage_id
    CROSS JOIN LATERAL (
        SELECT id FROM pipeline_stage n
        WHERE n.pipeline_id = s.pipeline_id AND n.position > s.position
          AND NOT n.is_won AND NOT n.is_archived
        ORDER BY n.position LIMIT 1
    ) nxt
    WHERE f.n = 1
)
INSERT INTO pipeline_stagechange
    (deal_id, kind, from_stage_id, to_stage_id, from_status, to_status, changed_by_id,
     changed_at, note)
SELECT p.deal_id, 'stage',
       CASE WHEN g %% 2 = 1 THEN p.stage_id ELSE p.next_stage_id END,
       CASE WHEN g %% 2 = 1 THEN p.next_stage_id ELSE p.stage_id END,
       'open', 'open', p.changed_by_id,
       p.t0 + (p.t1 - p.t0) * g / (2 * %(pairs)s + 1), ''
FROM pairs p CROSS JOIN generate_series(1, 2 * %(pairs)s) g
"""


def measure_reports(args) -> dict:
    """The reports page at benchmark size: 20 reps, 100k deals, ~1M history rows."""
    import math

    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from pipeline.history import stage_changes_link_stays
    from pipeline.models import Deal, StageChange
    from reports import selectors as metrics
    from reports.forms import period_days

    start = time.perf_counter()
    reuse = (
        args.reuse
        and Deal.objects.count() == args.report_deals
        and StageChange.objects.count() >= args.report_history
    )
    if not reuse:
        call_command(
            "seed_demo",
            flush=True,
            deals=args.report_deals,
            reps=args.reps,
            days=args.report_days,
            seed=7,
            verbosity=0,
        )
    seeded = None if reuse else StageChange.objects.count()
    deals = Deal.objects.count()
    missing = args.report_history - StageChange.objects.count()
    if missing > 0:
        pairs = math.ceil(missing / (2 * deals))
        with connection.cursor() as cursor:
            cursor.execute(EXTRA_HISTORY_SQL, {"pairs": pairs})
        stage_changes_link_stays()
    with connection.cursor() as cursor:
        # What autovacuum would have done by then: statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - start
    results = {
        "deals": deals,
        "history": StageChange.objects.count(),
        "seeded_history": seeded,
        "reused": reuse,
        "reps": User.objects.filter(role="rep").count(),
        "span_days": (timezone.now() - Deal.objects.order_by("created_at")[0].created_at).days,
        "open": Deal.objects.filter(status="open").count(),
        "seed_s": seconds,
    }
    admin = User.objects.filter(role="admin").first()
    manager = User.objects.filter(role="manager").first()
    repeat = args.report_repeat
    today = dt_today()
    this_quarter_start, _ = period_days("quarter", today)
    last_quarter_end = this_quarter_start - dt.timedelta(days=1)
    last_quarter = {
        "period": "custom",
        "start": last_quarter_end.replace(month=last_quarter_end.month - 2, day=1).isoformat(),
        "end": last_quarter_end.isoformat(),
    }
    for label, user in (("admin", admin), ("manager", manager)):
        client = Client()
        client.force_login(user)

        def page(client=client, params=None):
            response = client.get("/reports/", params or {"period": "quarter"})
            assert response.status_code == 200, response.status_code

        # Cold: nothing cached (the first view after any change); warm: a repeat view.
        results[f"reports_{label}_cold"] = timed(page, repeat, setup=cache.clear)
        results[f"reports_{label}"] = timed(page, repeat)
        results[f"reports_{label}_last_quarter"] = timed(
            lambda page=page: page(params=last_quarter), repeat, setup=cache.clear
        )
        results[f"reports_{label}_year"] = timed(
            lambda page=page: page(params={"period": "year"}), repeat, setup=cache.clear
        )
    client = Client()
    client.force_login(admin)
    results["reports_csv"] = timed(
        lambda: client.get("/reports/stages.csv", {"period": "quarter"}), repeat, setup=cache.clear
    )
    # Moves rewrite the rows that started the stays they end; until a vacuum marks those pages
    # all-visible again, the index-only read of the stays visits the table for them. The
    # history's autovacuum runs after 2% of it changes (migration 0010): about 20,000 rows.
    with connection.cursor() as cursor:
        cursor.execute(UNVACUUMED_SQL, {"rows": UNVACUUMED_ROWS})
    results["reports_unvacuumed"] = timed(
        lambda: client.get("/reports/", {"period": "quarter"}), repeat, setup=cache.clear
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE pipeline_stagechange")
    results["last_quarter"] = (last_quarter["start"], last_quarter["end"])
    first, last = period_days("quarter", today)
    period = metrics.Period("quarter", first, last, dt_utc())

    def floor():
        with connection.cursor() as cursor:
            end = period.measured_until(timezone.now())
            cursor.execute(REPORTS_FLOOR_SQL, {"start": period.start, "end": end})
            cursor.fetchall()

    results["reports_floor"] = timed(floor, repeat)
    return results


def dt_today():
    from django.utils import timezone

    return timezone.now().date()


def dt_utc():
    return dt.UTC


def http_throughput(args) -> tuple[float, float, int]:
    """Board views per second through gunicorn (2 workers), and the workers' memory (MB)."""
    import socket
    import subprocess
    import threading
    import urllib.request

    from django.conf import settings
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User

    user = User.objects.filter(role="manager").first()
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
    }
    env.pop("CRM_TESTING", None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "crm.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    headers = {"Cookie": f"sessionid={session.session_key}", "X-Forwarded-Proto": "https"}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(
                    urllib.request.Request(url, headers=headers), timeout=5
                ).read()
                break
            except OSError:
                time.sleep(0.1)
        count = {"n": 0, "errors": 0}
        deadline = time.perf_counter() + args.http_seconds
        lock = threading.Lock()

        def worker():
            while time.perf_counter() < deadline:
                try:
                    request = urllib.request.Request(url, headers=headers)
                    with urllib.request.urlopen(request, timeout=10) as r:
                        # A login page would also answer 200: count only real boards.
                        ok = r.status == 200 and b'id="board-columns"' in r.read()
                except OSError:
                    ok = False
                with lock:
                    count["n" if ok else "errors"] += 1

        threads = [threading.Thread(target=worker) for _ in range(4)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        rss = 0
        children = subprocess.run(
            ["pgrep", "-P", str(server.pid)], capture_output=True, text=True
        ).stdout.split()
        for pid in [str(server.pid), *children]:
            status = Path(f"/proc/{pid}/status")
            if status.exists():
                for line in status.read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        rss = max(rss, int(line.split()[1]) // 1024)
        return count["n"] / elapsed, rss, count["errors"]
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--http-seconds", type=float, default=8.0)
    parser.add_argument("--only", choices=["board", "reports"], help="run one part only")
    parser.add_argument("--report-deals", type=int, default=100_000)
    parser.add_argument("--report-history", type=int, default=1_000_000)
    parser.add_argument("--report-repeat", type=int, default=15)
    parser.add_argument(
        "--report-days",
        type=int,
        default=1095,
        help="history span of the reports data (20 reps with 100k deals: about three years)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep reports data already seeded at this size"
    )
    args = parser.parse_args()

    url = bench_database_url()
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ["CRM_TESTING"] = "1"  # fast password hashing for the seeded users
    import django

    django.setup()
    quiet_logs()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.only != "board":
        print_reports(measure_reports(args))
    if args.only == "reports":
        return
    sizes = {label: measure_size(label, args) for label in ("small", "large")}
    os.environ.pop("CRM_TESTING")
    rps, rss, errors = http_throughput(args)

    def row(name, key):
        cells = []
        for label in ("small", "large"):
            median, p95, queries = sizes[label][key]
            cells.append(f"{median:7.2f} {p95:7.2f} {queries:3d}")
        print(f"{name:<34} {cells[0]}   {cells[1]}")

    small, large = sizes["small"], sizes["large"]
    print()
    print(
        f"data: small {small['deals']:,} deals ({small['open']:,} open, "
        f"{small['history']:,} history rows), large {large['deals']:,} deals "
        f"({large['open']:,} open, {large['history']:,} history rows)"
    )
    print(f"seeding took {small['seed_s']:.1f} s and {large['seed_s']:.1f} s")
    print()
    print(f"{'':<34} {'small: p50 ms  p95  SQL':<26} {'large: p50 ms  p95  SQL'}")
    row("board, admin (all deals), cold", "board_admin_cold")
    row("board, manager (one team), cold", "board_manager_cold")
    row("board, admin, warm", "board_admin")
    row("board, manager, warm", "board_manager")
    row("idle poll (204, stamp unchanged)", "poll_idle")
    row("floor: one plain SQL for the cards", "floor")
    row("move: deal_move service", "move_service")
    row("  its column lock alone (2 stage rows)", "move_lock")
    row("move into one column, alone", "move_one_column")
    row(f"move into one column, {CONTENDING_MOVERS} others too", "move_contended")
    row(f"  the same, {CONTENDING_MOVERS} others elsewhere", "move_elsewhere")
    row("move: POST /deals/<id>/move", "move_http")
    print()
    print(
        f"gunicorn, 2 workers, 4 clients: {rps:.0f} board views/s ({errors} errors); "
        f"largest web process {rss} MB resident"
    )


def print_reports(r: dict) -> None:
    print()
    print(
        f"reports data: {r['deals']:,} deals ({r['open']:,} open), {r['reps']} reps, "
        f"{r['history']:,} history rows over {r['span_days']} days"
        + (
            "; data reused"
            if r["reused"]
            else f" ({r['seeded_history']:,} from seed_demo, the rest added by SQL); "
            f"seeding took {r['seed_s']:.1f} s"
        )
    )
    print(f"{'':<44} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>4}")
    for name, key in (
        ("reports page, quarter, admin (all), cold", "reports_admin_cold"),
        ("reports page, quarter, manager (team), cold", "reports_manager_cold"),
        ("reports page, quarter, admin, warm (cached)", "reports_admin"),
        ("reports page, quarter, manager, warm", "reports_manager"),
        ("last full quarter, admin, cold", "reports_admin_last_quarter"),
        ("last full quarter, manager, cold", "reports_manager_last_quarter"),
        ("this year, admin, cold", "reports_admin_year"),
        ("this year, manager, cold", "reports_manager_year"),
        ("stages CSV, quarter, admin, cold", "reports_csv"),
        (f"quarter, admin, {UNVACUUMED_ROWS:,} rows not yet vacuumed", "reports_unvacuumed"),
        ("floor: one plain SQL for the stage table", "reports_floor"),
    ):
        median, p95, queries = r[key]
        print(f"{name:<44} {median:8.1f} {p95:8.1f} {queries:4d}")
    first, last = r["last_quarter"]
    print(f"quarter: this quarter up to today; last full quarter: {first} to {last}")


if __name__ == "__main__":
    main()
