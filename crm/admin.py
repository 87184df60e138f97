from django.contrib import admin

from crm.models import Contact, Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "industry", "city", "owner")
    search_fields = ("name",)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("first_name", "last_name", "email", "organization")
    search_fields = ("first_name", "last_name", "email")
    list_select_related = ("organization",)
    raw_id_fields = ("organization", "owner")
