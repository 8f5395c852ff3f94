from django.contrib import admin

from audit.models import AuditEvent
from core.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit history is append-only: the admin can read it and nothing else."""

    list_display = ("created_at", "actor_name", "source", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type", "source")
    search_fields = ("actor_name", "object_repr", "reason")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]
