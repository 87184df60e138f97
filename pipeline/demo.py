"""Realistic, deterministic demo data: people, teams, companies, deals, their history and
their activities (``manage.py seed_demo`` runs it; ``--help`` lists the sizes).

The same seed and sizes give the same people, companies, deals, history and activities
every time. Only absolute timestamps differ between runs: every time is an offset from one
``now`` taken at the start, so a demo always looks fresh. All randomness comes from one
``random.Random(seed)`` that is drawn from in a fixed order; nothing may depend on database
ids or on the order rows come back in.

Each deal's life is decided up front as a story (created, moved from stage to stage, maybe won
or lost) and both the deal row and its ``StageChange`` history are written from that story,
so the two always agree: the board, the history and the reports built on it tell the same
tale. Everything is written with ``bulk_create`` in batches, so benchmark-sized data sets
(tens of thousands of deals, hundreds of thousands of rows) take seconds.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from django.core.management.base import CommandError
from django.db import models
from django.utils import timezone

from accounts.models import Team, User
from crm.models import Contact, Organization
from pipeline.defaults import (
    DEFAULT_LOST_REASONS,
    create_default_lost_reasons,
    create_default_pipeline,
)
from pipeline.history import stage_changes_link_stays
from pipeline.models import Activity, Deal, LostReason, Pipeline, Stage, StageChange
from pipeline.selectors import default_pipeline
from pipeline.services import POSITION_GAP

M = TypeVar("M", bound=models.Model)
T = TypeVar("T")

BATCH_SIZE = 2000
# History and activities are generated lazily and written this many rows at a time, so
# memory stays flat however many deals are asked for.
STREAM_CHUNK = BATCH_SIZE * 5
DEFAULT_SEED = 2026
DEFAULT_PASSWORD = "demo-pass-2026"
# Demo accounts are recognised by this address domain (".test" is reserved, so it can never
# be a real mailbox): --flush deletes these and only these users.
DEMO_EMAIL_DOMAIN = "demo.pipeline-crm.test"
HISTORY_DAYS = 183  # about six months of history (the default of --days)
REPS_PER_TEAM = 10
OPEN, WON, LOST = Deal.Status.OPEN, Deal.Status.WON, Deal.Status.LOST
OUTCOME_WEIGHTS = {OPEN: 60, WON: 18, LOST: 22}
ROTTING_SHARE = 0.2  # about one open deal in five has sat too long in its stage


def _items(text: str) -> list[str]:
    """A word list written as comma-separated text, which stays compact and easy to edit."""
    return [item.strip() for item in text.split(",") if item.strip()]


FIRST_NAMES = _items("""
    Ava, Noah, Mia, Liam, Zoe, Omar, Lena, Jonas, Sofia, Mateo, Ines, Hugo, Clara, Felix, Maya,
    Elias, Nora, Theo, Lucia, Arjun, Hana, Malik, Freya, Tariq, Emma, Luca, Amara, Ravi, Ingrid,
    Diego, Yara, Sven, Priya, Kofi, Elena, Marco, Aisha, Niko, Leila, Tomas, Greta, Rafael, Anouk,
    Kenji, Marta, Oskar, Selin, Pavel, Chloe, Idris
""")
LAST_NAMES = _items("""
    Berg, Okafor, Lindqvist, Moreau, Castillo, Nakamura, Fischer, Haddad, Novak, Rossi, Brennan,
    Sato, Kowalski, Dubois, Silva, Andersen, Mensah, Varga, Keller, Ortiz, Larsen, Petrov, Walsh,
    Costa, Jansen, Ibrahim, Horvat, Laurent, Schmidt, Quinn, Meyer, Romano, Eriksen, Vidal,
    Kaya, Nowak, Bauer, Ferreira, Murphy, Tanaka
""")
JOB_TITLES = _items("""
    Head of Operations, CFO, IT Manager, Purchasing Lead, CEO, Managing Director,
    Procurement Manager, Head of Sales, Operations Director, CTO, Office Manager,
    Finance Director, Head of Customer Service, Logistics Manager
""")
ORG_PREFIXES = _items("""
    Blue Harbor, Kestrel, Northwind, Alder & Finch, Summit, Orbit, Greenleaf, Copperline,
    Meridian, Atlas, Brightwater, Ironwood, Silverline, Redstone, Clearpath, Lakeside,
    Pinecrest, Hollow Oak, Starling, Westbrook, Granite, Tidewater, Evergreen, Foxglove, Beacon,
    Cobalt, Juniper, Maple Ridge, Riverbend, Solstice, Harbourview, Nordlicht, Bluebell,
    Quarry Hill, Sandpiper, Oakhurst, Windmill, Lighthouse, Amberfield, Crestline, Falcon,
    Highgate, Moorland, Saltmarsh, Thornbury, Vantage, Wildrose, Yellowstone, Zephyr, Larkspur
""")
# Sector word in the name, and the industry it stands for in the address book.
SECTORS: dict[str, str] = {
    "Logistics": "Transport & logistics",
    "Freight": "Transport & logistics",
    "Labs": "Research",
    "Foods": "Food & beverage",
    "Bakeries": "Food & beverage",
    "Dental Group": "Healthcare",
    "Health": "Healthcare",
    "Clinics": "Healthcare",
    "Energy": "Energy",
    "Solar": "Energy",
    "Studio": "Creative services",
    "Media": "Media",
    "Robotics": "Manufacturing",
    "Manufacturing": "Manufacturing",
    "Tooling": "Manufacturing",
    "Analytics": "Software",
    "Software": "Software",
    "Systems": "Software",
    "Retail": "Retail",
    "Outfitters": "Retail",
    "Insurance": "Financial services",
    "Capital": "Financial services",
    "Architects": "Construction",
    "Builders": "Construction",
    "Hotels": "Hospitality",
    "Pharma": "Pharmaceuticals",
    "Consulting": "Professional services",
    "Legal": "Professional services",
    "Engineering": "Engineering",
    "Academy": "Education",
}
# Repeats weight the choice: most names go without a suffix.
ORG_SUFFIXES = ["", "", "", "", "", " Group", " Partners", " Holdings", " International"]
# Country: (dialling code, currency the customer pays in).
COUNTRIES: dict[str, tuple[str, str]] = {
    "Germany": ("49", "EUR"),
    "France": ("33", "EUR"),
    "Netherlands": ("31", "EUR"),
    "Belgium": ("32", "EUR"),
    "Portugal": ("351", "EUR"),
    "Spain": ("34", "EUR"),
    "Italy": ("39", "EUR"),
    "Austria": ("43", "EUR"),
    "Ireland": ("353", "EUR"),
    "Estonia": ("372", "EUR"),
    "Finland": ("358", "EUR"),
    "United Kingdom": ("44", "GBP"),
    "United States": ("1", "USD"),
}
# Listed with repeats to weight the mix towards the euro area, where the demo company sells
# most; the UK and US customers give the few GBP and USD deals.
CITIES: list[tuple[str, str]] = [
    *[("Berlin", "Germany")] * 3,
    *[("Hamburg", "Germany")] * 2,
    *[("Munich", "Germany")] * 2,
    *[("Lyon", "France")] * 2,
    *[("Paris", "France")] * 2,
    *[("Utrecht", "Netherlands")] * 2,
    ("Rotterdam", "Netherlands"),
    ("Ghent", "Belgium"),
    ("Porto", "Portugal"),
    ("Lisbon", "Portugal"),
    ("Valencia", "Spain"),
    ("Madrid", "Spain"),
    ("Turin", "Italy"),
    ("Milan", "Italy"),
    ("Vienna", "Austria"),
    ("Dublin", "Ireland"),
    ("Tallinn", "Estonia"),
    ("Helsinki", "Finland"),
    ("Leeds", "United Kingdom"),
    ("Bristol", "United Kingdom"),
    ("Austin", "United States"),
    ("Boston", "United States"),
    ("Denver", "United States"),
]
# What is being sold, with the range its value usually falls in: a workshop day is never
# worth as much as a three-year managed service.
OFFERS: list[tuple[str, int, int]] = [
    ("annual support renewal", 4_000, 40_000),
    ("pilot for 25 seats", 2_000, 12_000),
    ("fleet tracking rollout", 30_000, 180_000),
    ("data migration project", 15_000, 90_000),
    ("analytics add-on", 3_000, 25_000),
    ("onboarding and training package", 2_500, 20_000),
    ("enterprise licence upgrade", 60_000, 250_000),
    ("API integration", 8_000, 60_000),
    ("multi-site licence", 25_000, 150_000),
    ("security review", 6_000, 35_000),
    ("hardware refresh", 20_000, 200_000),
    ("three-year managed service", 50_000, 250_000),
    ("website relaunch", 10_000, 70_000),
    ("consulting retainer", 12_000, 80_000),
    ("warehouse scanner rollout", 18_000, 120_000),
    ("e-commerce integration", 9_000, 55_000),
    ("expansion to 100 seats", 20_000, 110_000),
    ("customer portal", 15_000, 95_000),
    ("strategy workshop", 1_000, 4_000),
]
# Activities fit where the deal stands: early deals get discovery work, late ones paperwork.
# "{contact}" is the deal's contact (or "the buyer"), "{org}" its organization.
ActivityPlan = list[tuple[str, str]]
EARLY_ACTIVITIES: ActivityPlan = [
    (Activity.Kind.CALL, "Intro call with {contact}"),
    (Activity.Kind.CALL, "Discovery call: current process and pain points"),
    (Activity.Kind.TASK, "Research {org} before the first call"),
    (Activity.Kind.EMAIL, "Send case study to {contact}"),
    (Activity.Kind.CALL, "Check budget and who signs off"),
    (Activity.Kind.FOLLOW_UP, "Follow up on first conversation"),
]
MIDDLE_ACTIVITIES: ActivityPlan = [
    (Activity.Kind.MEETING, "Demo for the {org} team"),
    (Activity.Kind.TASK, "Prepare proposal for {org}"),
    (Activity.Kind.EMAIL, "Send proposal and pricing options"),
    (Activity.Kind.MEETING, "Walk {contact} through the proposal"),
    (Activity.Kind.FOLLOW_UP, "Follow up on proposal"),
    (Activity.Kind.TASK, "Draft statement of work"),
]
LATE_ACTIVITIES: ActivityPlan = [
    (Activity.Kind.CALL, "Call {contact} about the discount request"),
    (Activity.Kind.MEETING, "Contract review with their legal team"),
    (Activity.Kind.EMAIL, "Send contract draft"),
    (Activity.Kind.TASK, "Ask our legal team about payment terms"),
    (Activity.Kind.FOLLOW_UP, "Chase the signed order form"),
    (Activity.Kind.MEETING, "Plan the start date with {contact}"),
]
AFTER_SALE_ACTIVITIES: ActivityPlan = [
    (Activity.Kind.MEETING, "Kick-off meeting at {org}"),
    (Activity.Kind.FOLLOW_UP, "Check in after delivery"),
    (Activity.Kind.CALL, "Ask {contact} for feedback and a referral"),
]
TEAM_NAMES = _items("""
    Team North, Team South, Team East, Team West, Team Central, Team Coast, Team Alpine,
    Team Harbour, Team Metro, Team Valley, Team Lakes, Team Highlands
""")
TIME_ZONES = ["Europe/Berlin", "Europe/Paris", "Europe/London", "Europe/Lisbon"]


# ---- Plans: what will be created, decided before anything is written ---------------------


@dataclass(frozen=True)
class UserSpec:
    username: str
    role: str
    team_name: str | None


def team_name(index: int) -> str:
    return TEAM_NAMES[index] if index < len(TEAM_NAMES) else f"Team {index + 1}"


def user_specs(rep_count: int) -> list[UserSpec]:
    """Admin, one manager per team, reps dealt round-robin into teams of about ten."""
    team_count = min(rep_count, max(2, math.ceil(rep_count / REPS_PER_TEAM)))
    specs = [UserSpec("admin", User.Role.ADMIN, None)]
    specs += [
        UserSpec(f"manager{i + 1}", User.Role.MANAGER, team_name(i)) for i in range(team_count)
    ]
    specs += [
        UserSpec(f"rep{i + 1}", User.Role.REP, team_name(i % team_count)) for i in range(rep_count)
    ]
    return specs


def demo_users() -> models.QuerySet[User]:
    return User.objects.filter(email__iendswith=f"@{DEMO_EMAIL_DOMAIN}")


def timed(log: Callable[[str], None] | None, name: str, run: Callable[[], T]) -> T:
    """Run one step of the seeding and, when asked to log, say how long it took."""
    started = time.perf_counter()
    result = run()
    if log:
        log(f"  {name:<14} {time.perf_counter() - started:6.2f} s")
    return result


@dataclass
class Event:
    """One future ``StageChange`` row."""

    kind: str
    to_stage: Stage
    at: dt.datetime
    from_stage: Stage | None = None
    from_status: str = OPEN
    to_status: str = OPEN
    note: str = ""


@dataclass
class Story:
    """A deal's whole life: the deal row and its history are both derived from it."""

    events: list[Event]
    status: str
    lost_reason: str = ""

    @property
    def stage(self) -> Stage:
        return self.events[-1].to_stage

    @property
    def stage_entered_at(self) -> dt.datetime:
        # Won and lost rows that keep the deal where it is do not restart the stage clock.
        return next(e.at for e in reversed(self.events) if e.from_stage != e.to_stage)

    @property
    def closed_at(self) -> dt.datetime | None:
        return None if self.status == OPEN else self.events[-1].at


@dataclass
class Counts:
    users: int = 0
    teams: int = 0
    organizations: int = 0
    contacts: int = 0
    deals: dict[str, int] = field(default_factory=dict)
    history: int = 0
    activities: int = 0


# ---- The command ---------------------------------------------------------------------------


class Seeder:
    """Builds the demo data set. One instance per run; draws from one seeded generator."""

    def __init__(
        self,
        *,
        seed: int,
        deal_count: int,
        organization_count: int,
        specs: list[UserSpec],
        history_days: int = HISTORY_DAYS,
        password_hash: str,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.deal_count = deal_count
        self.organization_count = organization_count
        self.specs = specs
        self.password_hash = password_hash
        self.log = log
        # The one clock reading every time in the data set is relative to.
        self.now = timezone.now()
        self.history_days = history_days
        self.earliest = self.now - dt.timedelta(days=history_days)
        # Deals still open are the recent intake: over a longer span, the same number of
        # open deals is a smaller share and the rest closed at some time in the span.
        open_weight = OUTCOME_WEIGHTS[OPEN] * min(1.0, HISTORY_DAYS / history_days)
        closed = (100 - open_weight) / (OUTCOME_WEIGHTS[WON] + OUTCOME_WEIGHTS[LOST])
        self.outcome_weights = {
            OPEN: open_weight,
            WON: OUTCOME_WEIGHTS[WON] * closed,
            LOST: OUTCOME_WEIGHTS[LOST] * closed,
        }

    def run(self) -> Counts:
        self.load_pipeline()
        users = self.step("users", self.create_users)
        reps = [users[spec.username] for spec in self.specs if spec.role == User.Role.REP]
        orgs = self.step("organizations", lambda: self.create_organizations(reps))
        contacts = self.step("contacts", lambda: self.create_contacts(orgs))
        stories, deals = self.step("deals", lambda: self.create_deals(reps, orgs, contacts))
        history = self.step("history", lambda: self.create_history(stories, deals))
        activities = self.step("activities", lambda: self.create_activities(stories, deals))
        by_status: dict[str, int] = {OPEN: 0, WON: 0, LOST: 0}
        for story in stories:
            by_status[story.status] += 1
        return Counts(
            users=len(users),
            teams=len({spec.team_name for spec in self.specs if spec.team_name}),
            organizations=len(orgs),
            contacts=len(contacts),
            deals=by_status,
            history=history,
            activities=activities,
        )

    def step(self, name: str, build: Callable[[], T]) -> T:
        return timed(self.log, name, build)

    def load_pipeline(self) -> None:
        pipeline: Pipeline = default_pipeline() or create_default_pipeline(Pipeline, Stage)
        create_default_lost_reasons(LostReason)
        stages = list(pipeline.stages.active().order_by("position", "id"))
        self.pipeline = pipeline
        self.open_stages = [stage for stage in stages if not stage.is_won]
        self.won_stage = next((stage for stage in stages if stage.is_won), None)
        if not self.open_stages:
            raise CommandError(f"The pipeline {pipeline.name!r} has no open stages to fill.")
        self.lost_reasons = list(
            LostReason.objects.filter(is_archived=False)
            .order_by("position", "id")
            .values_list("text", flat=True)
        ) or list(DEFAULT_LOST_REASONS)

    # ---- People and the address book ------------------------------------------------------

    def create_users(self) -> dict[str, User]:
        teams = self.ensure_teams()
        # Users kept by --flush (the superuser, audit-trail actors) are refreshed in place.
        kept = {
            user.username: user
            for user in User.objects.filter(username__in=[s.username for s in self.specs])
        }
        names = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
        self.rng.shuffle(names)
        users: dict[str, User] = {}
        new: list[User] = []
        for index, spec in enumerate(self.specs):
            first, last = names[index % len(names)]
            user = kept.get(spec.username) or User(username=spec.username)
            is_admin = spec.role == User.Role.ADMIN
            user.first_name, user.last_name = first, last
            user.email = f"{spec.username}@{DEMO_EMAIL_DOMAIN}"
            user.role = spec.role
            user.team = teams[spec.team_name] if spec.team_name else None
            user.password = self.password_hash
            user.is_active = True
            user.is_staff = user.is_superuser = is_admin
            user.time_zone = self.rng.choice(TIME_ZONES)
            if user.pk:
                user.save()
            else:
                new.append(user)
            users[spec.username] = user
        self.insert(User, new)
        return users

    def ensure_teams(self) -> dict[str, Team]:
        wanted = list(dict.fromkeys(spec.team_name for spec in self.specs if spec.team_name))
        teams = {team.name.lower(): team for team in Team.objects.all()}
        missing = [Team(name=name) for name in wanted if name.lower() not in teams]
        for team in self.insert(Team, missing):
            teams[team.name.lower()] = team
        return {name: teams[name.lower()] for name in wanted}

    def organization_name(self, taken: set[str]) -> tuple[str, str]:
        """A fresh, plausible company name and its sector word. A few retries find an unused
        combination; only benchmark-sized runs exhaust them and get numbered names."""
        rng = self.rng
        for _ in range(10):
            prefix, sector = rng.choice(ORG_PREFIXES), rng.choice(list(SECTORS))
            name = f"{prefix} {sector}{rng.choice(ORG_SUFFIXES)}"
            if name not in taken:
                break
        base, number = name, 2
        while name in taken:
            name, number = f"{base} {number}", number + 1
        taken.add(name)
        return name, sector

    def create_organizations(self, reps: list[User]) -> list[Organization]:
        rng = self.rng
        taken: set[str] = set()
        orgs = []
        for _ in range(self.organization_count):
            name, sector = self.organization_name(taken)
            city, country = rng.choice(CITIES)
            domain = "".join(ch for ch in name.lower() if ch.isalnum())
            orgs.append(
                Organization(
                    name=name,
                    website=f"https://www.{domain}.example",
                    industry=SECTORS[sector],
                    phone=self.phone(country),
                    city=city,
                    country=country,
                    owner=rng.choice(reps),
                )
            )
        return self.insert(Organization, orgs)

    def create_contacts(self, orgs: list[Organization]) -> list[Contact]:
        """About one person per organization: most have one, some two, a few none yet."""
        rng = self.rng
        contacts = []
        for org in orgs:
            domain = org.website.removeprefix("https://www.")
            for _ in range(rng.choices([0, 1, 2], weights=[10, 65, 25])[0]):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                contacts.append(
                    Contact(
                        first_name=first,
                        last_name=last,
                        email=f"{first.lower()}.{last.lower()}@{domain}",
                        phone=self.phone(org.country),
                        job_title=rng.choice(JOB_TITLES),
                        organization=org,
                        owner_id=org.owner_id,
                    )
                )
        return self.insert(Contact, contacts)

    def phone(self, country: str) -> str:
        rng, code = self.rng, COUNTRIES[country][0]
        return f"+{code} {rng.randint(20, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"

    # ---- Deals and their stories -----------------------------------------------------------

    def create_deals(
        self, reps: list[User], orgs: list[Organization], contacts: list[Contact]
    ) -> tuple[list[Story], list[Deal]]:
        rng = self.rng
        people: dict[int | None, list[Contact]] = defaultdict(list)
        for person in contacts:
            people[person.organization_id].append(person)
        stories, deals = [], []
        for _ in range(self.deal_count):
            org = rng.choice(orgs)
            story = self.story()
            offer, low, high = rng.choice(OFFERS)
            org_people = people[org.pk]
            contact = rng.choice(org_people) if org_people and rng.random() < 0.9 else None
            # Accounts have an owner; now and then a colleague runs a deal there.
            owner_id = (
                org.owner_id
                if rng.random() < 0.8 and org.owner_id is not None
                else rng.choice(reps).pk
            )
            deals.append(
                Deal(
                    title=f"{org.name} – {offer}",
                    value=self.value(low, high),
                    currency=COUNTRIES[org.country][1],
                    pipeline=self.pipeline,
                    stage_id=story.stage.pk,
                    owner_id=owner_id,
                    contact=contact,
                    organization=org,
                    expected_close_date=self.expected_close(story),
                    status=story.status,
                    lost_reason=story.lost_reason,
                    closed_at=story.closed_at,
                    stage_entered_at=story.stage_entered_at,
                    # Every recorded change bumped the version, as the services do.
                    version=len(story.events),
                    created_at=story.events[0].at,
                )
            )
            stories.append(story)
        self.assign_positions(deals)
        return stories, self.insert(Deal, deals)

    def value(self, low: int, high: int) -> Decimal:
        """Log-uniform within the offer's range, rounded the way people quote prices."""
        raw = math.exp(self.rng.uniform(math.log(low), math.log(high)))
        step = 100 if raw < 10_000 else 500 if raw < 50_000 else 1_000
        return Decimal(max(step, round(raw / step) * step))

    def expected_close(self, story: Story) -> dt.date | None:
        rng = self.rng
        if story.status != OPEN:
            return (story.events[-1].at + dt.timedelta(days=rng.randint(-21, 14))).date()
        if rng.random() < 0.1:
            return None  # not every rep fills it in
        stages_left = len(self.open_stages) - self.open_stages.index(story.stage)
        # Mostly ahead, later for early deals; some are already past (overdue).
        days = rng.randint(-14, 21) + stages_left * rng.randint(5, 18)
        return (self.now + dt.timedelta(days=days)).date()

    def assign_positions(self, deals: list[Deal]) -> None:
        """Sparse positions per board column, the most recently moved card on top; deals on
        no column (lost, or won outside the post-sale stage) have none."""
        won_stages = set(Stage.objects.filter(is_won=True).values_list("pk", flat=True))
        columns: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
        for index, deal in enumerate(deals):
            on_board = deal.status == OPEN or (deal.status == WON and deal.stage_id in won_stages)
            deal.position = None
            if on_board:
                columns[deal.stage_id].append((deal.stage_entered_at, index))
        for column in columns.values():
            column.sort(key=lambda entry: (-entry[0].timestamp(), entry[1]))
            for place, (_, index) in enumerate(column, start=1):
                deals[index].position = place * POSITION_GAP

    def story(self) -> Story:
        rng = self.rng
        weights = self.outcome_weights
        status = rng.choices(list(weights), weights=list(weights.values()))[0]
        count = len(self.open_stages)
        if status == WON:
            target = count - 1
        elif status == LOST:
            # Deals are lost mostly in the middle: after qualifying, over the proposal or price.
            stage_weights = [2 + min(i, count - 1 - i) for i in range(count)]
            target = rng.choices(range(count), weights=stage_weights)[0]
        else:
            # A funnel: more deals in early stages than late ones.
            target = rng.choices(range(count), weights=[count + 1 - i for i in range(count)])[0]
        path = [self.open_stages[i] for i in self.path_to(target)]
        return self.timed_story(path, status)

    def path_to(self, target: int) -> list[int]:
        """Stage indexes a deal passes on its way to ``target``: one step at a time, with an
        occasional skipped stage and at most one step back (the buyer re-opened a question)."""
        rng = self.rng
        path, index, stepped_back = [0], 0, False
        while index < target:
            if index > 0 and not stepped_back and rng.random() < 0.05:
                index -= 1
                stepped_back = True
            elif index + 2 <= target and rng.random() < 0.07:
                index += 2
            else:
                index += 1
            path.append(index)
        return path

    def dwell(self, stage: Stage, current: bool) -> dt.timedelta:
        """How long a deal stays in a stage. For the stage it is in now, a share of deals has
        overstayed the stage's rotting limit so the board shows some rotting cards."""
        rng = self.rng
        limit = stage.rotting_days or 21
        if current and stage.rotting_days and rng.random() < ROTTING_SHARE:
            days = limit * rng.uniform(1.1, 3.0)
        elif current:
            days = limit * rng.uniform(0.02, 0.95)
        else:
            days = limit * rng.uniform(0.15, 1.3)
        return dt.timedelta(days=days)

    def timed_story(self, path: list[Stage], status: str) -> Story:
        """Place the path on the calendar, working back from its end, within the history span.

        An open deal's clock ends now; a closed deal's at its close, somewhere in the span
        (six months by default). If the stays add up to more than the window, they are
        squeezed to fit.
        """
        rng = self.rng
        if status == OPEN:
            end = self.now
            stays = [self.dwell(stage, current=False) for stage in path[:-1]]
            stays.append(self.dwell(path[-1], current=True))
        else:
            end = self.now - dt.timedelta(days=rng.uniform(0.5, self.history_days - 30))
            stays = [self.dwell(stage, current=False) for stage in path]
        total = sum(stays, dt.timedelta())
        room = (end - self.earliest) * rng.uniform(0.85, 1.0)
        if total > room:
            stays = [stay * (room / total) for stay in stays]
        moment = end - sum(stays, dt.timedelta())
        events = [Event(StageChange.Kind.CREATED, path[0], moment, from_status="")]
        for previous, stage, stay in zip(path, path[1:], stays, strict=False):
            moment += stay
            events.append(Event(StageChange.Kind.STAGE, stage, moment, from_stage=previous))
        last = path[-1]
        if status == WON:
            events.append(Event(StageChange.Kind.WON, self.won_stage or last, end, last, OPEN, WON))
        elif status == LOST:
            reason = rng.choice(self.lost_reasons)
            events.append(Event(StageChange.Kind.LOST, last, end, last, OPEN, LOST, reason))
            return Story(events, status, lost_reason=reason)
        return Story(events, status)

    # ---- History and activities ------------------------------------------------------------

    def create_history(self, stories: list[Story], deals: list[Deal]) -> int:
        def rows() -> Iterator[StageChange]:
            for story, deal in zip(stories, deals, strict=True):
                for event in story.events:
                    yield StageChange(
                        deal_id=deal.pk,
                        kind=event.kind,
                        from_stage_id=event.from_stage.pk if event.from_stage else None,
                        to_stage_id=event.to_stage.pk,
                        from_status=event.from_status,
                        to_status=event.to_status,
                        changed_by_id=deal.owner_id,
                        changed_at=event.at,
                        note=event.note,
                    )

        count = self.insert_stream(StageChange, rows())
        # Where each stay ends, on the row that started it (what deal_move writes as it goes).
        stage_changes_link_stays()
        return count

    def create_activities(self, stories: list[Story], deals: list[Deal]) -> int:
        def rows() -> Iterator[Activity]:
            for story, deal in zip(stories, deals, strict=True):
                if story.status == OPEN:
                    yield from self.open_deal_activities(story, deal)
                elif story.status == WON and self.rng.random() < 0.6:
                    yield self.after_sale_activity(story, deal)

        return self.insert_stream(Activity, rows())

    def open_deal_activities(self, story: Story, deal: Deal) -> Iterator[Activity]:
        rng = self.rng
        phase = 3 * self.open_stages.index(story.stage) // len(self.open_stages)
        plans = (EARLY_ACTIVITIES, MIDDLE_ACTIVITIES, LATE_ACTIVITIES)[phase]
        for kind, subject in rng.sample(plans, rng.choices([0, 1, 2, 3], [8, 52, 33, 7])[0]):
            roll = rng.random()
            if roll < 0.15:  # overdue: due in the past, not done
                due, done = self.now - dt.timedelta(days=rng.uniform(0.5, 10)), False
            elif roll < 0.35:  # done recently
                due, done = self.now - dt.timedelta(days=rng.uniform(0.5, 20)), True
            else:  # planned
                due, done = self.now + dt.timedelta(days=rng.uniform(0.2, 21)), False
            due = self.working_hours(due, not_before=deal.created_at)
            yield self.activity(deal, kind, subject, due, done=done and due < self.now)

    def after_sale_activity(self, story: Story, deal: Deal) -> Activity:
        kind, subject = self.rng.choice(AFTER_SALE_ACTIVITIES)
        due = self.working_hours(story.events[-1].at + dt.timedelta(days=self.rng.uniform(3, 14)))
        return self.activity(deal, kind, subject, due, done=due < self.now)

    def activity(
        self, deal: Deal, kind: str, subject: str, due: dt.datetime, done: bool
    ) -> Activity:
        rng = self.rng
        contact = deal.contact.first_name if deal.contact else "the buyer"
        org = deal.organization.name if deal.organization else "the customer"
        created = max(deal.created_at, min(due, self.now) - dt.timedelta(days=rng.uniform(0, 7)))
        done_at = min(self.now, due + dt.timedelta(minutes=rng.randint(0, 240))) if done else None
        return Activity(
            kind=kind,
            subject=subject.format(contact=contact, org=org),
            due_at=due,
            assignee_id=deal.owner_id,
            deal_id=deal.pk,
            contact_id=deal.contact_id,
            done_at=done_at,
            created_by_id=deal.owner_id,
            created_at=created,
        )

    def working_hours(
        self, moment: dt.datetime, not_before: dt.datetime | None = None
    ) -> dt.datetime:
        """Snap a time to a half hour between 9:00 and 16:30 that day, as people book them;
        a day later if that would put it before ``not_before`` (nobody plans before a deal
        exists)."""
        snapped = moment.replace(
            hour=self.rng.randint(9, 16), minute=self.rng.choice([0, 30]), second=0, microsecond=0
        )
        while not_before and snapped < not_before:
            snapped += dt.timedelta(days=1)
        return snapped

    # ---- Writing ---------------------------------------------------------------------------

    def insert(self, model: type[M], objs: list[M]) -> list[M]:
        """Bulk insert and return the rows with their primary keys set (PostgreSQL and
        SQLite 3.35+ both return them), which the next steps link to."""
        created = model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)
        if created and created[0].pk is None:
            raise CommandError("This database does not return ids from bulk inserts.")
        return created

    def insert_stream(self, model: type[M], rows: Iterable[M]) -> int:
        """Bulk insert rows that nothing links to, a chunk at a time; returns the count."""
        total, chunk = 0, []
        for row in rows:
            chunk.append(row)
            if len(chunk) == STREAM_CHUNK:
                model._default_manager.bulk_create(chunk, batch_size=BATCH_SIZE)
                total, chunk = total + len(chunk), []
        model._default_manager.bulk_create(chunk, batch_size=BATCH_SIZE)
        return total + len(chunk)
