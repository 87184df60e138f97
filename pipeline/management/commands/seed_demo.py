"""Fill the database with realistic, deterministic demo data.

The same ``--seed`` and sizes give the same people, companies, deals and history every
time (timestamps are relative to the moment of the run). Everything is written with bulk
inserts, so benchmark-sized data sets (tens of thousands of deals, hundreds of thousands of
history rows) take seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Team, User
from crm.models import Contact, Organization
from pipeline.defaults import create_default_lost_reasons, create_default_pipeline
from pipeline.models import Activity, Deal, LostReason, Notification, Pipeline, Stage, StageChange
from pipeline.services import POSITION_GAP

BATCH = 2000
DEMO_EMAIL_DOMAIN = "demo.pipeline-crm.test"

FIRST_NAMES = [
    "Ava",
    "Noah",
    "Mia",
    "Liam",
    "Zoe",
    "Omar",
    "Lena",
    "Jonas",
    "Sofia",
    "Mateo",
    "Ines",
    "Hugo",
    "Clara",
    "Felix",
    "Maya",
    "Elias",
    "Nora",
    "Theo",
    "Lucia",
    "Arjun",
    "Hana",
    "Malik",
    "Freya",
    "Tariq",
    "Emma",
    "Luca",
    "Amara",
    "Ravi",
    "Ingrid",
    "Diego",
    "Yara",
    "Sven",
    "Priya",
    "Kofi",
    "Elena",
    "Marco",
    "Aisha",
    "Niko",
    "Leila",
    "Tomas",
]
LAST_NAMES = [
    "Berg",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Castillo",
    "Nakamura",
    "Fischer",
    "Haddad",
    "Novak",
    "Rossi",
    "Brennan",
    "Sato",
    "Kowalski",
    "Dubois",
    "Silva",
    "Andersen",
    "Mensah",
    "Varga",
    "Keller",
    "Ortiz",
    "Larsen",
    "Petrov",
    "Walsh",
    "Costa",
    "Jansen",
    "Ibrahim",
    "Horvat",
    "Laurent",
    "Schmidt",
    "Quinn",
]
ORG_FIRST = [
    "Blue Harbor",
    "Kestrel",
    "Northwind",
    "Alder & Finch",
    "Summit",
    "Orbit",
    "Greenleaf",
    "Copperline",
    "Meridian",
    "Atlas",
    "Brightwater",
    "Ironwood",
    "Silverline",
    "Redstone",
    "Clearpath",
    "Lakeside",
    "Pinecrest",
    "Hollow Oak",
    "Starling",
    "Westbrook",
    "Granite",
    "Tidewater",
    "Evergreen",
    "Foxglove",
    "Beacon",
    "Cobalt",
    "Juniper",
    "Maple Ridge",
    "Riverbend",
    "Solstice",
]
ORG_SECOND = [
    "Logistics",
    "Labs",
    "Foods",
    "Dental Group",
    "Freight",
    "Energy",
    "Studio",
    "Health",
    "Robotics",
    "Analytics",
    "Manufacturing",
    "Retail",
    "Insurance",
    "Architects",
    "Software",
    "Hotels",
    "Pharma",
    "Media",
    "Consulting",
    "Engineering",
]
CITIES = [
    "Berlin",
    "Lyon",
    "Leeds",
    "Austin",
    "Porto",
    "Gdansk",
    "Utrecht",
    "Malmo",
    "Denver",
    "Dublin",
    "Turin",
    "Ghent",
]
PRODUCTS = [
    "annual support renewal",
    "fleet tracking rollout",
    "pilot for 40 seats",
    "data migration",
    "analytics add-on",
    "onboarding package",
    "enterprise upgrade",
    "API integration",
    "training programme",
    "multi-site licence",
    "security review",
    "hardware refresh",
]
ACTIVITY_SUBJECTS = {
    Activity.Kind.CALL: ["Discovery call", "Call about pricing", "Check budget approval"],
    Activity.Kind.MEETING: [
        "Demo with their IT team",
        "On-site workshop",
        "Review proposal together",
    ],
    Activity.Kind.EMAIL: ["Send case study", "Send revised quote", "Share contract draft"],
    Activity.Kind.TASK: ["Prepare proposal", "Update pricing sheet", "Ask legal about terms"],
    Activity.Kind.FOLLOW_UP: [
        "Follow up on proposal",
        "Check in after delivery",
        "Ask for referral",
    ],
}
VALUES = [1500, 2400, 4800, 7500, 12000, 18000, 25000, 40000, 68000, 95000, 140000, 250000]


@dataclass
class Plan:
    """A deal's life decided up front: the stages it passed through and how it ended."""

    deal: Deal
    steps: list[tuple[Stage, dt.datetime]] = field(default_factory=list)
    outcome: str = Deal.Status.OPEN
    closed_at: dt.datetime | None = None
    lost_reason: str = ""


class Command(BaseCommand):
    help = "Fill the database with deterministic demo data (users, companies, deals, history)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026).")
        parser.add_argument("--deals", type=int, default=400, help="Number of deals (default 400).")
        parser.add_argument("--reps", type=int, default=8, help="Number of sales reps (default 8).")
        parser.add_argument(
            "--organizations", type=int, default=None, help="Default: about one per 1.3 deals."
        )
        parser.add_argument(
            "--password", default="demo-pass-2026", help="Password of every demo user."
        )
        parser.add_argument("--flush", action="store_true", help="Delete demo data first.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database has users."
        )

    def handle(self, *args, **options):
        if options["deals"] < 0 or options["reps"] < 1:
            raise CommandError("--deals must be 0 or more and --reps at least 1.")
        if options["if_empty"] and User.objects.exists():
            self.stdout.write("Demo data not loaded: the database already has users.")
            return
        demo_loaded = User.objects.filter(email__endswith=DEMO_EMAIL_DOMAIN).exists()
        if demo_loaded and not options["flush"]:
            raise CommandError("Demo data is already loaded. Use --flush to replace it.")
        started = time.perf_counter()
        with transaction.atomic():
            if options["flush"]:
                self.flush()
            counts = Seeder(options).run()
        elapsed = time.perf_counter() - started
        self.report(options, counts, elapsed)

    def flush(self) -> None:
        """Remove demo data in dependency order (foreign keys protect history and deals)."""
        Notification.objects.all().delete()
        Activity.objects.all().delete()
        StageChange.objects.all().delete()
        Deal.objects.all().delete()
        Contact.objects.all().delete()
        Organization.objects.all().delete()
        User.objects.filter(email__endswith=DEMO_EMAIL_DOMAIN).delete()
        Team.objects.filter(members__isnull=True).delete()

    def report(self, options, counts: dict[str, int], elapsed: float) -> None:
        if options["verbosity"] == 0:
            return
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded in {elapsed:.1f} s:"))
        for name, count in counts.items():
            if name != "logins":
                self.stdout.write(f"  {count:>9,}  {name}")
        self.stdout.write("")
        self.stdout.write(f"Sign in at {settings.SITE_URL}/accounts/login/ with:")
        self.stdout.write(f"  {'username':<12} {'role':<15} {'team':<12} password")
        for username, role, team in counts["logins"]:
            self.stdout.write(f"  {username:<12} {role:<15} {team:<12} {options['password']}")


class Seeder:
    def __init__(self, options):
        self.random = random.Random(options["seed"])
        self.deal_count = options["deals"]
        self.rep_count = options["reps"]
        self.org_count = options["organizations"] or max(10, math.ceil(self.deal_count / 1.3))
        self.password = make_password(options["password"])
        self.now = timezone.now()

    def run(self) -> dict:
        pipeline = create_default_pipeline(Pipeline, Stage)
        create_default_lost_reasons(LostReason)
        self.stages = list(pipeline.stages.active().order_by("position"))
        self.open_stages = [stage for stage in self.stages if not stage.is_won]
        self.won_stage = next((stage for stage in self.stages if stage.is_won), None)
        self.reasons = list(
            LostReason.objects.filter(is_archived=False).values_list("text", flat=True)
        )
        self.pipeline = pipeline
        admin, managers, reps = self.people()
        orgs = self.organizations()
        contacts = self.contacts(orgs)
        plans = self.deals(reps, orgs, contacts)
        changes = self.history(plans)
        activities = self.activities(plans)
        logins = [(admin.username, "Administrator", "")]
        logins += [(m.username, "Sales manager", m.team.name) for m in managers]
        shown = reps if len(reps) <= 10 else [*reps[:3], *reps[-1:]]
        logins += [(r.username, "Sales rep", r.team.name) for r in shown]
        return {
            "users": 1 + len(managers) + len(reps),
            "organizations": len(orgs),
            "contacts": len(contacts),
            "deals": len(plans),
            "history rows": changes,
            "activities": activities,
            "logins": logins,
        }

    # ---- People and the address book -------------------------------------------------------

    def person_name(self, index: int) -> tuple[str, str]:
        return (
            FIRST_NAMES[index % len(FIRST_NAMES)],
            LAST_NAMES[(index * 7 + index // len(FIRST_NAMES)) % len(LAST_NAMES)],
        )

    def user(self, username: str, role: str, team: Team | None, index: int) -> User:
        first, last = self.person_name(index)
        return User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@{DEMO_EMAIL_DOMAIN}",
            role=role,
            team=team,
            password=self.password,
            is_staff=role == User.Role.ADMIN,
            is_superuser=role == User.Role.ADMIN,
            time_zone=self.random.choice(["Europe/Berlin", "Europe/London", "America/New_York"]),
        )

    def people(self) -> tuple[User, list[User], list[User]]:
        team_count = max(2, math.ceil(self.rep_count / 10)) if self.rep_count > 1 else 1
        names = ["Team North", "Team South", "Team East", "Team West"]
        teams = []
        for index in range(team_count):
            name = names[index] if index < len(names) else f"Team {index + 1}"
            teams.append(Team.objects.get_or_create(name=name)[0])
        admin = self.user("admin", User.Role.ADMIN, None, 0)
        managers = [
            self.user(f"manager{i + 1}", User.Role.MANAGER, team, 3 + i)
            for i, team in enumerate(teams)
        ]
        reps = [
            self.user(f"rep{i + 1}", User.Role.REP, teams[i % team_count], 11 + i)
            for i in range(self.rep_count)
        ]
        User.objects.bulk_create([admin, *managers, *reps], batch_size=BATCH)
        saved = {
            u.username: u
            for u in User.objects.filter(email__endswith=DEMO_EMAIL_DOMAIN).select_related("team")
        }
        return (
            saved["admin"],
            [saved[m.username] for m in managers],
            [saved[r.username] for r in reps],
        )

    def organizations(self) -> list[Organization]:
        orgs = []
        for index in range(self.org_count):
            first = ORG_FIRST[index % len(ORG_FIRST)]
            second = ORG_SECOND[(index // len(ORG_FIRST) + index) % len(ORG_SECOND)]
            suffix = (
                f" {index // (len(ORG_FIRST) * len(ORG_SECOND)) + 1}"
                if index >= len(ORG_FIRST) * len(ORG_SECOND)
                else ""
            )
            name = f"{first} {second}{suffix}"
            slug = name.lower().replace(" & ", "-").replace(" ", "")
            orgs.append(
                Organization(
                    name=name,
                    website=f"https://{slug}.example",
                    industry=second,
                    city=self.random.choice(CITIES),
                )
            )
        return Organization.objects.bulk_create(orgs, batch_size=BATCH)

    def contacts(self, orgs: list[Organization]) -> list[Contact]:
        contacts = []
        for index, org in enumerate(orgs):
            for extra in range(1 + (index % 3 == 0)):
                first, last = self.person_name(index * 3 + extra + 50)
                contacts.append(
                    Contact(
                        first_name=first,
                        last_name=last,
                        email=f"{first.lower()}.{last.lower()}{index}@{org.website[8:]}",
                        job_title=self.random.choice(
                            ["Head of Operations", "CFO", "IT Manager", "Purchasing Lead", "CEO"]
                        ),
                        organization=org,
                    )
                )
        return Contact.objects.bulk_create(contacts, batch_size=BATCH)

    # ---- Deals and how they moved ------------------------------------------------------------

    def plan(self, deal: Deal) -> Plan:
        """Decide a deal's path: mostly forward, sometimes a skip or a step back; some closed."""
        rng = self.random
        plan = Plan(deal=deal)
        age = dt.timedelta(days=rng.uniform(1, 180))
        roll = rng.random()
        outcome = Deal.Status.WON if roll < 0.18 else Deal.Status.LOST if roll < 0.38 else "open"
        last_index = len(self.open_stages) - 1
        weights = [30, 24, 18, 14, 14][: last_index + 1]
        target = (
            last_index
            if outcome == Deal.Status.WON
            else rng.choices(range(last_index + 1), weights)[0]
        )
        path, index = [0], 0
        while index < target:
            step = 2 if rng.random() < 0.08 and index + 2 <= target else 1
            if rng.random() < 0.06 and index > 0:
                step = -1
            index += step
            path.append(index)
        # Gaps between events, scaled so the whole story fits between creation and now.
        gaps = [rng.uniform(0.5, 16) for _ in range(len(path))]
        scale = age / sum(gaps)
        start = self.now - age
        moments, elapsed = [], 0.0
        for gap in gaps[:-1]:
            moments.append(start + scale * elapsed)
            elapsed += gap
        moments.append(start + scale * elapsed)
        plan.steps = [
            (self.open_stages[i], moment) for i, moment in zip(path, moments, strict=True)
        ]
        close_at = start + scale * (elapsed + gaps[-1] * 0.9)
        if outcome != "open":
            plan.outcome = outcome
            plan.closed_at = close_at
            if outcome == Deal.Status.WON and self.won_stage:
                plan.steps.append((self.won_stage, close_at))
            elif outcome == Deal.Status.LOST:
                plan.lost_reason = rng.choice(self.reasons)
        return plan

    def deals(self, reps, orgs, contacts) -> list[Plan]:
        rng = self.random
        contacts_by_org: dict[int, list[Contact]] = {}
        for contact in contacts:
            contacts_by_org.setdefault(contact.organization_id, []).append(contact)
        plans = []
        for index in range(self.deal_count):
            org = orgs[rng.randrange(len(orgs))]
            deal = Deal(
                title=f"{org.name.split(' ')[0]} – {rng.choice(PRODUCTS)}",
                value=Decimal(rng.choice(VALUES)),
                currency=rng.choices(["EUR", "USD", "GBP"], weights=[80, 14, 6])[0],
                pipeline=self.pipeline,
                owner=reps[index % len(reps)],
                organization=org,
                contact=rng.choice(contacts_by_org[org.pk]) if rng.random() < 0.85 else None,
            )
            plan = self.plan(deal)
            last_stage, entered = plan.steps[-1]
            deal.stage = last_stage if plan.outcome != Deal.Status.LOST else plan.steps[-1][0]
            deal.status = plan.outcome
            deal.closed_at = plan.closed_at
            deal.lost_reason = plan.lost_reason
            deal.created_at = plan.steps[0][1]
            deal.stage_entered_at = entered
            deal.version = len(plan.steps) + (plan.outcome == Deal.Status.LOST)
            close_offset = rng.randint(-10, 90)
            deal.expected_close_date = (
                (self.now + dt.timedelta(days=close_offset)).date() if rng.random() < 0.9 else None
            )
            plans.append(plan)
        # Column order: within each stage, newest stays first, as new cards go on top.
        columns: dict[int, list[Deal]] = {}
        for plan in sorted(plans, key=lambda p: p.deal.stage_entered_at, reverse=True):
            columns.setdefault(plan.deal.stage.pk, []).append(plan.deal)
        for column in columns.values():
            for place, deal in enumerate(column, start=1):
                deal.position = place * POSITION_GAP
        Deal.objects.bulk_create([plan.deal for plan in plans], batch_size=BATCH)
        return plans

    def history(self, plans: list[Plan]) -> int:
        rows: list[StageChange] = []
        total = 0
        for plan in plans:
            deal = plan.deal
            previous = None
            for stage, moment in plan.steps:
                if previous is None:
                    kind, from_status, to_status = StageChange.Kind.CREATED, "", Deal.Status.OPEN
                elif stage.is_won:
                    kind, from_status, to_status = (
                        StageChange.Kind.WON,
                        Deal.Status.OPEN,
                        Deal.Status.WON,
                    )
                else:
                    kind, from_status, to_status = (
                        StageChange.Kind.STAGE,
                        Deal.Status.OPEN,
                        Deal.Status.OPEN,
                    )
                rows.append(
                    StageChange(
                        deal=deal,
                        kind=kind,
                        from_stage=previous,
                        to_stage=stage,
                        from_status=from_status,
                        to_status=to_status,
                        changed_by=deal.owner,
                        changed_at=moment,
                    )
                )
                previous = stage
            if plan.outcome == Deal.Status.LOST:
                rows.append(
                    StageChange(
                        deal=deal,
                        kind=StageChange.Kind.LOST,
                        from_stage=previous,
                        to_stage=previous,
                        from_status=Deal.Status.OPEN,
                        to_status=Deal.Status.LOST,
                        changed_by=deal.owner,
                        changed_at=plan.closed_at,
                        note=plan.lost_reason,
                    )
                )
            elif plan.outcome == Deal.Status.WON and self.won_stage is None:
                rows.append(
                    StageChange(
                        deal=deal,
                        kind=StageChange.Kind.WON,
                        from_stage=previous,
                        to_stage=previous,
                        from_status=Deal.Status.OPEN,
                        to_status=Deal.Status.WON,
                        changed_by=deal.owner,
                        changed_at=plan.closed_at,
                    )
                )
            if len(rows) >= BATCH * 5:
                StageChange.objects.bulk_create(rows, batch_size=BATCH)
                total += len(rows)
                rows = []
        StageChange.objects.bulk_create(rows, batch_size=BATCH)
        return total + len(rows)

    def activities(self, plans: list[Plan]) -> int:
        rng = self.random
        rows = []
        kinds = list(ACTIVITY_SUBJECTS)
        for plan in plans:
            deal = plan.deal
            if plan.outcome == Deal.Status.OPEN:
                for _ in range(rng.choice([0, 1, 1, 2])):
                    kind = rng.choice(kinds)
                    due = self.now + dt.timedelta(days=rng.uniform(-6, 21))
                    done = due < self.now and rng.random() < 0.5
                    rows.append(
                        Activity(
                            kind=kind,
                            subject=rng.choice(ACTIVITY_SUBJECTS[kind]),
                            due_at=due.replace(minute=0, second=0, microsecond=0),
                            assignee=deal.owner,
                            deal=deal,
                            contact=deal.contact,
                            done_at=due if done else None,
                            created_by=deal.owner,
                            created_at=deal.created_at,
                        )
                    )
            elif plan.outcome == Deal.Status.WON:
                due = plan.closed_at + dt.timedelta(days=7)
                rows.append(
                    Activity(
                        kind=Activity.Kind.FOLLOW_UP,
                        subject="Check in after delivery",
                        due_at=due.replace(minute=0, second=0, microsecond=0),
                        assignee=deal.owner,
                        deal=deal,
                        done_at=due if due < self.now else None,
                        created_at=plan.closed_at,
                    )
                )
        Activity.objects.bulk_create(rows, batch_size=BATCH)
        return len(rows)
