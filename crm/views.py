from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from crm import services
from crm.forms import ContactForm, OrganizationForm
from crm.http import HtmxHttpRequest
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
def organization_search(request: HtmxHttpRequest) -> HttpResponse:
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
def contact_search(request: HtmxHttpRequest) -> HttpResponse:
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


# ---- The shared address book: everyone reads it; owners, their managers and admins edit ------

ADDRESS_BOOK_PER_PAGE = 50


def _page(request: HttpRequest, rows):
    return Paginator(rows, ADDRESS_BOOK_PER_PAGE).get_page(request.GET.get("page"))


@require_GET
def contacts(request: HtmxHttpRequest) -> HttpResponse:
    q = _search_term(request, "q")
    rows = (
        Contact.objects.visible_to(request.user)
        .select_related("organization", "owner")
        .order_by("first_name", "last_name", "pk")
    )
    for word in q.split()[:3]:
        rows = rows.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(organization__name__icontains=word)
        )
    context = {"page": _page(request, rows), "q": q, "query": urlencode({"q": q})}
    return render(request, "crm/contacts.html", context)


@require_GET
def contact_detail(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(
        Contact.objects.visible_to(request.user).select_related("organization", "owner"),
        pk=contact_id,
    )
    can_edit = Contact.objects.editable_by(request.user).filter(pk=contact.pk).exists()
    return render(request, "crm/contact_detail.html", {"contact": contact, "can_edit": can_edit})


@require_http_methods(["GET", "POST"])
def contact_new(request: HtmxHttpRequest) -> HttpResponse:
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        contact = services.contact_create(actor=request.user, **form.cleaned_data)
        messages.success(request, f"{contact} added to the address book.")
        return redirect("contact_detail", contact.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "crm/contact_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def contact_edit(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=contact_id)
    if not Contact.objects.editable_by(request.user).filter(pk=contact.pk).exists():
        raise PermissionDenied("Only the owner, their manager or an admin can edit this contact.")
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        services.contact_update(actor=request.user, contact_id=contact.pk, **form.cleaned_data)
        messages.success(request, "Contact saved.")
        return redirect("contact_detail", contact.pk)
    contact.refresh_from_db()
    status = 422 if request.method == "POST" else 200
    return render(
        request, "crm/contact_form.html", {"form": form, "contact": contact}, status=status
    )


@require_GET
def organizations(request: HtmxHttpRequest) -> HttpResponse:
    q = _search_term(request, "q")
    rows = (
        Organization.objects.visible_to(request.user)
        .select_related("owner")
        .annotate(contact_count=Count("contacts"))
        .order_by("name", "pk")
    )
    for word in q.split()[:3]:
        rows = rows.filter(Q(name__icontains=word) | Q(city__icontains=word))
    context = {"page": _page(request, rows), "q": q, "query": urlencode({"q": q})}
    return render(request, "crm/organizations.html", context)


@require_GET
def organization_detail(request: HtmxHttpRequest, organization_id: int) -> HttpResponse:
    organization = get_object_or_404(
        Organization.objects.visible_to(request.user).select_related("owner"), pk=organization_id
    )
    context = {
        "organization": organization,
        "people": organization.contacts.order_by("first_name", "last_name")[:100],
        "can_edit": Organization.objects.editable_by(request.user)
        .filter(pk=organization.pk)
        .exists(),
    }
    return render(request, "crm/organization_detail.html", context)


@require_http_methods(["GET", "POST"])
def organization_new(request: HtmxHttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organization = services.organization_create(actor=request.user, **form.cleaned_data)
        messages.success(request, f"{organization} added to the address book.")
        return redirect("organization_detail", organization.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "crm/organization_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def organization_edit(request: HtmxHttpRequest, organization_id: int) -> HttpResponse:
    organization = get_object_or_404(
        Organization.objects.visible_to(request.user), pk=organization_id
    )
    if not Organization.objects.editable_by(request.user).filter(pk=organization.pk).exists():
        raise PermissionDenied("Only the owner, their manager or an admin can edit this.")
    form = OrganizationForm(request.POST or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        services.organization_update(
            actor=request.user, organization_id=organization.pk, **form.cleaned_data
        )
        messages.success(request, "Organization saved.")
        return redirect("organization_detail", organization.pk)
    organization.refresh_from_db()
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "organization": organization}
    return render(request, "crm/organization_form.html", context, status=status)
