from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from crm.models import Contact, Organization

SUGGESTIONS = 8


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and docker compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _search_term(request: HttpRequest, *names: str) -> str:
    for name in names:
        if request.GET.get(name):
            return request.GET[name].strip()[:100]
    return ""


@require_GET
def organization_search(request: HttpRequest) -> HttpResponse:
    """Type-ahead for the shared address book: organizations whose name matches."""
    term = _search_term(request, "q", "organization_name")
    found = (
        Organization.objects.filter(name__icontains=term).order_by("name")[:SUGGESTIONS]
        if term
        else []
    )
    options = [{"id": org.pk, "label": org.name, "detail": org.city} for org in found]
    return render(
        request,
        "crm/_suggestions.html",
        {"options": options, "term": term, "field": "organization_id", "kind": "organization"},
    )


@require_GET
def contact_search(request: HttpRequest) -> HttpResponse:
    """Type-ahead for contacts by first name, last name or email."""
    term = _search_term(request, "q", "contact_name")
    condition = Q()
    for word in term.split()[:3]:
        condition &= (
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    found = (
        Contact.objects.filter(condition)
        .select_related("organization")
        .order_by("first_name", "last_name")[:SUGGESTIONS]
        if term
        else []
    )
    options = [
        {
            "id": contact.pk,
            "label": str(contact),
            "detail": contact.organization.name if contact.organization else contact.email,
            "organization_id": contact.organization_id or "",
            "organization_name": contact.organization.name if contact.organization else "",
        }
        for contact in found
    ]
    return render(
        request,
        "crm/_suggestions.html",
        {"options": options, "term": term, "field": "contact_id", "kind": "contact"},
    )
