"""The notification bell and list: unread count, the list, mark one or all read."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from crm.http import HtmxHttpRequest
from pipeline.models import Notification
from pipeline.services import notifications as notification_services
from pipeline.views.shared import render_page

LIST_SIZE = 50


@require_GET
def notifications_badge(request: HtmxHttpRequest) -> HttpResponse:
    """Polled by the header's bell: one COUNT over the inbox index."""
    unread = Notification.objects.filter(user=request.user, read_at__isnull=True).count()
    return render(request, "pipeline/notifications.html#badge", {"unread": unread})


@require_GET
def notifications(request: HtmxHttpRequest) -> HttpResponse:
    items = list(Notification.objects.filter(user=request.user)[:LIST_SIZE])
    unread = sum(1 for item in items if item.read_at is None)
    if unread == len(items) == LIST_SIZE:  # the list is full of unread ones: count them all
        unread = Notification.objects.filter(user=request.user, read_at__isnull=True).count()
    return render_page(request, "pipeline/notifications.html", {"items": items, "unread": unread})


@require_POST
def notification_read(request: HtmxHttpRequest, notification_id: int) -> HttpResponse:
    if not notification_services.notification_read(
        user=request.user, notification_id=notification_id
    ):
        raise Http404("This notification does not exist.")
    if "form" not in (request.content_type or ""):
        return HttpResponse(status=204)  # a script marked it as its link was opened
    return redirect("notifications")


@require_POST
def notifications_read_all(request: HtmxHttpRequest) -> HttpResponse:
    notification_services.notifications_read_all(user=request.user)
    return redirect("notifications")
