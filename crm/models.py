from typing import Any, Self, TypeVar

from django.conf import settings
from django.db import models

from accounts.scope import Scope

_Entry = TypeVar("_Entry", bound=models.Model)


class AddressBookQuerySet(models.QuerySet[_Entry]):
    """Contacts and organizations are the company's shared address book."""

    def visible_to(self, user: Any) -> Self:
        """Everyone signed in sees the whole address book."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self

    def editable_by(self, user: Any) -> Self:
        """Owners edit their own, managers what their team owns, admins everything.

        A record without an owner belongs to the company: only admins edit it.
        """
        scope = Scope.of(user)
        return self.none() if scope.sees_nothing else self.filter(scope.people("owner"))


class Organization(models.Model):
    """A company the sales team sells to. Part of the shared address book."""

    name = models.CharField(max_length=200)
    website = models.URLField(blank=True)
    industry = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organizations",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AddressBookQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(models.functions.Upper("name"), name="organization_name_upper")]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person at (optionally) an organization. Part of the shared address book."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    job_title = models.CharField(max_length=100, blank=True)
    # A contact outlives the organization record it was filed under.
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AddressBookQuerySet.as_manager()

    class Meta:
        ordering = ["first_name", "last_name"]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="contact_name"),
            models.Index(fields=["email"], name="contact_email"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
