"""The stages a new installation starts with.

Written in our own words from the sales-process articles the product grew from. The
data migration ``0002_default_pipeline`` creates this pipeline on a fresh database.
"""

from typing import TypedDict


class StageSpec(TypedDict):
    name: str
    probability: int
    rotting_days: int | None
    is_won: bool
    description: str
    goal: str


DEFAULT_PIPELINE_NAME = "Sales pipeline"

SIX_STAGE_CYCLE: list[StageSpec] = [
    {
        "name": "Prospect",
        "probability": 10,
        "rotting_days": 14,
        "is_won": False,
        "description": (
            "A company or person who might need what we sell. We have a name and a way to "
            "reach them, but have not yet had a real conversation."
        ),
        "goal": "Make first contact and book a conversation with someone who can speak for "
        "the buyer.",
    },
    {
        "name": "Qualify",
        "probability": 20,
        "rotting_days": 14,
        "is_won": False,
        "description": (
            "We are finding out whether this is a good fit: is there a real problem we solve, "
            "a budget, a person who decides, and a reason to act soon?"
        ),
        "goal": "Confirm need, budget, decision maker and timing, or drop the deal early.",
    },
    {
        "name": "Proposal",
        "probability": 40,
        "rotting_days": 14,
        "is_won": False,
        "description": (
            "We understand the buyer's situation and present how we would help: the offer, "
            "its scope and its price, shaped around what they told us matters."
        ),
        "goal": "Deliver a written proposal and walk the buyer through it.",
    },
    {
        "name": "Negotiation",
        "probability": 60,
        "rotting_days": 21,
        "is_won": False,
        "description": (
            "The buyer is interested and raises questions or objections about price, terms or "
            "fit. We answer them and adjust the offer where it makes sense for both sides."
        ),
        "goal": "Agree on scope, price and terms that both sides accept.",
    },
    {
        "name": "Closing",
        "probability": 80,
        "rotting_days": 10,
        "is_won": False,
        "description": (
            "Terms are agreed and we are collecting the signature or purchase order. Anything "
            "still open is paperwork, approvals or a start date."
        ),
        "goal": "Get the contract signed or the order placed.",
    },
    {
        "name": "Follow-up",
        "probability": 100,
        "rotting_days": None,
        "is_won": True,
        "description": (
            "The deal is won. We deliver on what we promised, check that the customer is "
            "happy, and look for referrals and the next opportunity with them."
        ),
        "goal": "A satisfied customer: delivery confirmed, feedback gathered, next step agreed.",
    },
]

DEFAULT_LOST_REASONS = [
    "Price too high",
    "Chose a competitor",
    "No budget",
    "No decision, went quiet",
    "Timing not right",
    "Missing a feature they need",
    "Not a good fit",
]


def create_default_pipeline(pipeline_model, stage_model):
    """Create the six-stage pipeline unless it exists. Takes the models as arguments so the
    data migration can pass its historical models."""
    pipeline, created = pipeline_model.objects.get_or_create(
        name=DEFAULT_PIPELINE_NAME, is_archived=False, defaults={"position": 0}
    )
    if created:
        stage_model.objects.bulk_create(
            stage_model(pipeline=pipeline, position=index, **spec)
            for index, spec in enumerate(SIX_STAGE_CYCLE)
        )
    return pipeline


def create_default_lost_reasons(lost_reason_model) -> None:
    if not lost_reason_model.objects.exists():
        lost_reason_model.objects.bulk_create(
            lost_reason_model(text=text, position=index)
            for index, text in enumerate(DEFAULT_LOST_REASONS)
        )
