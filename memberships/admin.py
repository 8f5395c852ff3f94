from django.contrib import admin

from core.admin import ReadOnlyAdmin
from memberships.models import IAMUser, Membership


@admin.register(IAMUser)
class IAMUserAdmin(ReadOnlyAdmin):
    list_display = ("user_name", "display_name", "email", "created_at")
    search_fields = ("user_name", "display_name", "email")


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("iam_user", "account", "role", "requested_by_name", "created_at", "expires_at")
    list_filter = ("account", "role")
    list_select_related = ("iam_user", "account", "role")
    search_fields = ("iam_user__user_name", "reason")
