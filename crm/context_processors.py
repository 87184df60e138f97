from django.http import HttpRequest
from django.urls import reverse


def navigation(request: HttpRequest) -> dict:
    """Header navigation: only pages that exist and that this user may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [
        ("Pipeline", reverse("home")),
        ("Activities", reverse("my_activities")),
        ("Reports", reverse("reports")),
    ]
    # The shared address book: contacts, with organizations one tab away.
    items.append(("Contacts", reverse("contacts")))
    if getattr(user, "is_admin", False):
        items.append(("Settings", reverse("settings_pipelines")))
    path = request.path
    return {
        "nav_items": [
            {
                "label": label,
                "url": url,
                "active": path == url
                or (url != "/" and path.startswith(url))
                or (url == reverse("contacts") and path.startswith(reverse("organizations"))),
            }
            for label, url in items
        ]
    }
