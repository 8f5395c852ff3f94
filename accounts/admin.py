from django.contrib import admin

from accounts.models import AssumableAccount, MasterAccount
from core.admin import ReadOnlyAdmin


@admin.register(MasterAccount)
class MasterAccountAdmin(ReadOnlyAdmin):
    list_display = ("account_id", "profile", "region", "stack_name", "group_quota", "updated_at")


@admin.register(AssumableAccount)
class AssumableAccountAdmin(ReadOnlyAdmin):
    list_display = ("name", "account_id", "profile", "role_arn", "enabled", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("name", "account_id", "description")
