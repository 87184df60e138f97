"""``manage.py seed_demo [--seed N] [--deals N] [--reps N] [--flush] [--password PW]``: fill
the database with the demo data of ``pipeline.demo``."""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Q
from django.shortcuts import resolve_url

from accounts.models import AuditEntry, Team, User
from crm.models import Contact, Organization
from pipeline.demo import (
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    DEMO_EMAIL_DOMAIN,
    HISTORY_DAYS,
    LOST,
    OPEN,
    TEAM_NAMES,
    WON,
    Counts,
    Seeder,
    UserSpec,
    demo_users,
    timed,
    user_specs,
)
from pipeline.models import Activity, Deal, Notification, StageChange


class Command(BaseCommand):
    help = (
        "Fill the database with deterministic demo data: users in teams, organizations, "
        "contacts, deals with six months of stage history, and activities."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed.")
        parser.add_argument("--deals", type=int, default=400, help="Number of deals.")
        parser.add_argument("--reps", type=int, default=8, help="Number of sales reps.")
        parser.add_argument(
            "--organizations",
            type=int,
            default=None,
            help="Number of organizations (default: three for every four deals).",
        )
        parser.add_argument(
            "--days",
            type=int,
            default=HISTORY_DAYS,
            help="How far back the history goes, in days (default: about six months). Over a "
            "longer span, deals close throughout it and fewer are still open, as in a team "
            "that has worked that long (the benchmark uses about three years).",
        )
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help="Password of every demo user."
        )
        parser.add_argument(
            "--flush",
            action="store_true",
            help="First delete all deals, history, activities, notifications, contacts, "
            "organizations and the demo users. Pipelines and stages are kept.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing, successfully, when the database already has users.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        self.verbosity = options["verbosity"]
        deals, reps = options["deals"], options["reps"]
        organizations = options["organizations"]
        if organizations is None:
            organizations = math.ceil(deals * 3 / 4) if deals else 0
        if options["days"] < 60:
            raise CommandError("--days must be at least 60.")
        if deals < 0 or reps < 1 or organizations < 0 or (deals and not organizations):
            raise CommandError(
                "--deals must be 0 or more, --reps at least 1, and --organizations at least 1 "
                "when there are deals."
            )
        if options["if_empty"] and User.objects.exists():
            self.say("Demo data not loaded: the database already has users.")
            return
        specs = user_specs(reps)
        self.check_can_seed(specs, flush=options["flush"])
        # -v 2 times each step, to see where a benchmark-sized run spends its time.
        log = self.say if self.verbosity >= 2 else None
        seeder = Seeder(
            seed=options["seed"],
            deal_count=deals,
            organization_count=organizations,
            history_days=options["days"],
            specs=specs,
            # Hashed once for everybody: a deliberately slow hash per user would dominate.
            password_hash=make_password(options["password"]),
            log=log,
        )
        # One transaction: a failed run leaves the database as it was, flush included.
        with transaction.atomic():
            if options["flush"]:
                timed(log, "flush", self.flush)
            counts = seeder.run()
            commit_started = time.perf_counter()
        if log:
            # Foreign keys are checked at commit, which is a visible share of the total.
            log(f"  {'commit':<14} {time.perf_counter() - commit_started:6.2f} s")
        self.report(seeder, counts, options, time.perf_counter() - started)

    def say(self, message: str = "") -> None:
        if self.verbosity > 0:
            self.stdout.write(message)

    def check_can_seed(self, specs: list[UserSpec], flush: bool) -> None:
        taken = list(
            User.objects.filter(username__in=[spec.username for spec in specs])
            .exclude(email__iendswith=f"@{DEMO_EMAIL_DOMAIN}")
            .values_list("username", flat=True)
        )
        if taken:
            # Never overwrite or delete someone's real account, not even with --flush.
            raise CommandError(
                f"These usernames belong to accounts the demo did not create: "
                f"{', '.join(sorted(taken))}. Rename or remove them first."
            )
        if not flush and demo_users().exists():
            raise CommandError(
                "Demo data is already loaded (demo users exist). Run again with --flush to "
                "delete it and seed afresh."
            )

    def flush(self) -> None:
        """Delete the data the demo fills, children before parents.

        Plain ``DELETE`` statements rather than ``QuerySet.delete()``: the ORM would load
        every deal, contact and organization to cascade by hand, which takes longer than
        seeding. The order below leaves nothing pointing at a deleted row; should a table this
        command does not know about still point at one, the database refuses the commit and
        the whole run is rolled back, so nothing is lost silently.
        """
        with connection.cursor() as cursor:
            for model in (Notification, Activity, StageChange, Deal, Contact, Organization):
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"DELETE FROM {table}")
        # Superusers are kept (it may be the very account running the demo), and so is anyone
        # named in the audit trail, which protects its actors; the seeder reuses them.
        audit_actors = AuditEntry.objects.filter(actor__isnull=False).values("actor_id")
        demo_users().filter(is_superuser=False).exclude(pk__in=audit_actors).delete()
        Team.objects.filter(
            Q(name__in=TEAM_NAMES) | Q(name__regex=r"^Team \d+$"), members__isnull=True
        ).delete()

    def report(
        self, seeder: Seeder, counts: Counts, options: dict[str, Any], elapsed: float
    ) -> None:
        deals = counts.deals
        self.say(self.style.SUCCESS(f"Demo data loaded in {elapsed:.1f} s (seed {seeder.seed})."))
        rows = [
            (counts.users, f"users in {counts.teams} team{'' if counts.teams == 1 else 's'}"),
            (counts.organizations, "organizations"),
            (counts.contacts, "contacts"),
            (
                sum(deals.values()),
                f"deals ({deals.get(OPEN, 0):,} open, {deals.get(WON, 0):,} won, "
                f"{deals.get(LOST, 0):,} lost)",
            ),
            (counts.history, "history rows (stage changes)"),
            (counts.activities, "activities"),
        ]
        for count, label in rows:
            self.say(f"  {count:>9,}  {label}")
        self.say()
        self.say(f"Sign in at {settings.SITE_URL}{resolve_url(settings.LOGIN_URL)} with:")
        self.say(f"  {'username':<12} {'role':<15} {'team':<14} password")
        reps = [spec for spec in seeder.specs if spec.role == User.Role.REP]
        # A benchmark run can have hundreds of reps; past a dozen, a few rows show the pattern.
        shown_reps = reps if len(reps) <= 12 else reps[:6]
        for spec in [*[s for s in seeder.specs if s.role != User.Role.REP], *shown_reps]:
            role = User.Role(spec.role).label
            team = spec.team_name or "-"
            self.say(f"  {spec.username:<12} {role:<15} {team:<14} {options['password']}")
        if len(shown_reps) < len(reps):
            first, last = reps[len(shown_reps)].username, reps[-1].username
            self.say(f"  … and {first} to {last} likewise, in the teams above.")


# ---- The seeder ----------------------------------------------------------------------------
