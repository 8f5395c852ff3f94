from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyAdminMixin
from roles.models import InlinePolicy, RoleDefinition


class InlinePolicyInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InlinePolicy
    fields = ("name", "document")
    extra = 0


@admin.register(RoleDefinition)
class RoleDefinitionAdmin(ReadOnlyAdmin):
    list_display = ("logical_name", "role_name", "path", "require_mfa", "max_session_duration", "applies_to_all_accounts")
    list_filter = ("require_mfa", "applies_to_all_accounts")
    search_fields = ("logical_name", "role_name", "description")
    inlines = [InlinePolicyInline]


@admin.register(InlinePolicy)
class InlinePolicyAdmin(ReadOnlyAdmin):
    list_display = ("name", "role", "updated_at")
    list_select_related = ("role",)
    search_fields = ("name", "role__logical_name")
