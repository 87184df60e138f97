"""factory-boy factories: the one place test data is built.

They keep related objects consistent: a deal's stage belongs to its pipeline, and its
owner is a rep unless a test says otherwise.
"""

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Team, User
from crm.models import Contact, Organization
from pipeline.models import Activity, Deal, Notification, Pipeline, Stage, StageChange


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = User.Role.REP
    team = factory.SubFactory(TeamFactory)
    password = factory.django.Password("correct-horse-battery")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Faker("company")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Faker("email")
    organization = factory.SubFactory(OrganizationFactory)


class PipelineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pipeline

    name = factory.Sequence(lambda n: f"Pipeline {n}")
    position = factory.Sequence(lambda n: n + 1)


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    pipeline = factory.SubFactory(PipelineFactory)
    name = factory.Sequence(lambda n: f"Stage {n}")
    position = factory.Sequence(lambda n: n)
    probability = 50
    rotting_days = 14


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal

    title = factory.Sequence(lambda n: f"Deal {n}")
    value = Decimal("1000.00")
    currency = "EUR"
    stage = factory.SubFactory(StageFactory)
    pipeline = factory.SelfAttribute("stage.pipeline")
    position = factory.Sequence(lambda n: (n + 1) * 1024)
    owner = factory.SubFactory(UserFactory)
    stage_entered_at = factory.LazyFunction(timezone.now)


class StageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageChange

    deal = factory.SubFactory(DealFactory)
    kind = StageChange.Kind.STAGE
    to_stage = factory.SelfAttribute("deal.stage")
    to_status = Deal.Status.OPEN
    changed_by = factory.SelfAttribute("deal.owner")


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    kind = Activity.Kind.CALL
    subject = factory.Sequence(lambda n: f"Call {n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=1))
    deal = factory.SubFactory(DealFactory)
    assignee = factory.SelfAttribute("deal.owner")


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    kind = "reminder"
    text = factory.Sequence(lambda n: f"Notification {n}")
