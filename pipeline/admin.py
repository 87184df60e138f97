"""Django admin for inspection. Deals are read-only here: their stage, status and position
change only through ``pipeline.services.deal_move``, which writes the history."""

from django.contrib import admin

from pipeline.models import Activity, Deal, LostReason, Notification, Pipeline, Stage, StageChange


class ReadOnlyAdmin(admin.ModelAdmin):
    """History and deals are inspected here, never edited (see the module docstring)."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ("name", "position", "probability", "rotting_days", "is_won", "is_archived")


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ("name", "position", "is_archived")
    inlines = [StageInline]


@admin.register(LostReason)
class LostReasonAdmin(admin.ModelAdmin):
    list_display = ("text", "position", "is_archived")
    list_editable = ("position", "is_archived")


@admin.register(Deal)
class DealAdmin(ReadOnlyAdmin):
    list_display = ("title", "stage", "status", "owner", "value", "currency")
    list_filter = ("pipeline", "status")
    search_fields = ("title",)
    list_select_related = ("stage", "owner")


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdmin):
    list_display = ("deal", "kind", "from_stage", "to_stage", "changed_by", "changed_at")
    list_select_related = ("deal", "from_stage", "to_stage", "changed_by")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("subject", "kind", "due_at", "assignee", "done_at")
    raw_id_fields = ("deal", "contact")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "text", "created_at", "read_at")
