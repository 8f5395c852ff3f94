from django.contrib import admin

from accounts.models import AssumableAccount, MasterAccount


class ReadOnlyAdmin(admin.ModelAdmin):
    """Superusers may look; every change goes through the services so it is validated and audited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MasterAccount)
class MasterAccountAdmin(ReadOnlyAdmin):
    list_display = ("account_id", "profile", "region", "stack_name", "group_quota", "updated_at")


@admin.register(AssumableAccount)
class AssumableAccountAdmin(ReadOnlyAdmin):
    list_display = ("name", "account_id", "profile", "role_arn", "enabled", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("name", "account_id", "description")
