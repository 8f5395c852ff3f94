"""The Django admin only looks: every change goes through the services, which validate and audit."""
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User


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


class ReadOnlyUserAdmin(ReadOnlyAdminMixin, UserAdmin):
    pass


class ReadOnlyGroupAdmin(ReadOnlyAdminMixin, GroupAdmin):
    pass


# Console users and groups change only through console/services_users.py, which keeps the privilege
# boundaries and writes the audit rows; here a superuser may look, not change (the password form
# included: it needs the change permission).
admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.register(User, ReadOnlyUserAdmin)
admin.site.register(Group, ReadOnlyGroupAdmin)
