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


def _stage(name, probability, rotting_days, description, goal, is_won=False) -> StageSpec:
    return {
        "name": name,
        "probability": probability,
        "rotting_days": rotting_days,
        "is_won": is_won,
        "description": description,
        "goal": goal,
    }


FIVE_STEP_CYCLE: list[StageSpec] = [
    _stage(
        "Lead generation",
        5,
        21,
        "Collecting people and companies who might buy.",
        "A name, a company and a way to reach them.",
    ),
    _stage(
        "Qualification",
        20,
        14,
        "Narrowing leads down to those who fit what we sell.",
        "Agreed that this buyer has the need and the means.",
    ),
    _stage(
        "Selling value",
        45,
        14,
        "Showing how our offer solves their problem, not just what it is.",
        "The buyer sees the value in their own terms.",
    ),
    _stage(
        "Building trust",
        70,
        21,
        "Answering doubts and proving we deliver what we promise.",
        "The buyer is ready to commit.",
    ),
    _stage(
        "Delivering the goods",
        100,
        None,
        "Won: we deliver, then make sure the customer is happy.",
        "Delivered on time, customer satisfied.",
        is_won=True,
    ),
]

SEVEN_STEP_PROCESS: list[StageSpec] = [
    _stage(
        "Prospecting",
        5,
        21,
        "Reaching out through calls, email, events and referrals.",
        "A first conversation with a possible buyer.",
    ),
    _stage(
        "Qualification",
        15,
        14,
        "Is there a problem we solve, an owner for it and a budget?",
        "Problem, owner and budget confirmed.",
    ),
    _stage(
        "Development",
        30,
        21,
        "Discovering the buyer's situation in depth and agreeing a plan.",
        "A mutual plan to move forward.",
    ),
    _stage(
        "Presentation",
        50,
        14,
        "Presenting a solution the buyer has already helped to shape.",
        "The solution is understood in detail.",
    ),
    _stage(
        "Discussion",
        65,
        21,
        "Removing objections and roadblocks; legal and delivery join in.",
        "No open objections left.",
    ),
    _stage(
        "Closing",
        85,
        10,
        "Negotiation and paperwork until the contract is signed.",
        "Signed contract.",
    ),
    _stage(
        "Account management",
        100,
        None,
        "Won: delivering on promises, then growing the account.",
        "Obligations met and the next opportunity found.",
        is_won=True,
    ),
]

QUOTE_PROCESS: list[StageSpec] = [
    _stage(
        "Prospecting",
        10,
        14,
        "Deciding whether the deal is worth pursuing at all.",
        "A prospect worth a conversation.",
    ),
    _stage(
        "Qualified",
        30,
        14,
        "The buyer has a clear need, budget and decision maker.",
        "Ready to receive a quote.",
    ),
    _stage(
        "Quote",
        60,
        14,
        "A priced offer has been sent and is being discussed.",
        "The quote is accepted or revised.",
    ),
    _stage(
        "Closure",
        85,
        10,
        "The true decision makers are on board and value is clear.",
        "The customer signs.",
    ),
]

B2B_NEEDS_ANALYSIS: list[StageSpec] = [
    _stage(
        "Lead generation",
        5,
        21,
        "Working out whom we could contact about a sale.",
        "A contact at a company that may need us.",
    ),
    _stage(
        "Prospecting",
        10,
        14,
        "Starting a real sales conversation with that contact.",
        "A conversation about their business.",
    ),
    _stage(
        "Qualification",
        20,
        14,
        "Both sides check they can trust each other to do their part.",
        "Mutual confidence to continue.",
    ),
    _stage(
        "Needs analysis",
        35,
        21,
        "Discovery: what in their situation our offer could improve.",
        "Needs written down and agreed.",
    ),
    _stage("Proposal", 55, 14, "A solution built on the needs analysis.", "Proposal delivered."),
    _stage(
        "Objections & negotiation",
        70,
        21,
        "Handling questions, concerns and changes.",
        "An amended proposal both sides accept.",
    ),
    _stage("Closing", 85, 10, "Reaching agreement to go ahead.", "A signed order."),
]

PIPELINE_TEMPLATES: dict[str, tuple[str, list[StageSpec]]] = {
    "six_stage": ("Six-stage sales cycle (prospect to follow-up)", SIX_STAGE_CYCLE),
    "five_step": ("Five-step cycle (lead generation to delivering the goods)", FIVE_STEP_CYCLE),
    "seven_step": ("Seven-step process (prospecting to account management)", SEVEN_STEP_PROCESS),
    "quote": ("Quote-driven (prospecting, qualified, quote, closure)", QUOTE_PROCESS),
    "b2b_needs": ("Seven-step B2B with needs analysis", B2B_NEEDS_ANALYSIS),
    "empty": ("Start empty", []),
}
