"""The pipeline's own kinds of the shared errors (``accounts.errors``)."""

from __future__ import annotations

from accounts.errors import Stale
from pipeline.models import Deal


class StaleDeal(Stale):
    """Someone else changed the deal since the caller loaded it; ``deal`` is how it is now."""

    def __init__(self, message: str, deal: Deal):
        super().__init__(message)
        self.deal = deal


class StaleConfiguration(Stale):
    """The stages or pipelines changed since the admin's page was drawn."""
