"""The Django admin only looks: every change goes through the services, which validate and audit."""
from django.contrib import admin


class ReadOnlyAdminMixin:
    """For ModelAdmin and inlines alike: nothing can be added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass
