"""Link the policy rows written before the parent columns existed to their role.

Only ``parent_type`` and ``parent_id`` are written, with a queryset update: the hashes stay as they
were, and those rows keep verifying under their chain version (1 or 2), which does not cover the
parent columns. Rows are read in chain order, so a policy row is linked to the role that held its
role's logical name at that point of the history (a name can pass from a deleted role to a new one,
and a role can be renamed).
"""
from django.db import migrations


def _logical_name(snapshot) -> str:
    return snapshot.get("logical_name", "") if isinstance(snapshot, dict) else ""


def fill_policy_parents(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    RoleDefinition = apps.get_model("roles", "RoleDefinition")
    InlinePolicy = apps.get_model("roles", "InlinePolicy")
    holder = {}  # logical name → id of the role that holds it, as far as the history has been read
    links = {}  # role id → audit row ids of its policies
    rows = (AuditEvent.objects.filter(object_type__in=("role", "policy"), parent_type="")
            .order_by("sequence", "id").values("id", "object_type", "object_id", "object_repr", "action", "before", "after"))
    for row in rows.iterator(chunk_size=2000):
        if row["object_type"] == "role":
            if row["action"] == "delete":
                holder.pop(_logical_name(row["before"]), None)
            else:
                holder.pop(_logical_name(row["before"]), None)
                if _logical_name(row["after"]):
                    holder[_logical_name(row["after"])] = row["object_id"]
            continue
        snapshot = row["after"] if isinstance(row["after"], dict) else row["before"]
        name = snapshot.get("role", "") if isinstance(snapshot, dict) else ""
        name = name or row["object_repr"].split("/", 1)[0]
        role_id = holder.get(name)
        if role_id is None:  # a role the history does not show being made (made before the audit history)
            role_id = RoleDefinition.objects.filter(logical_name=name).values_list("pk", flat=True).first()
        if role_id is None and row["object_id"].isdigit():
            role_id = InlinePolicy.objects.filter(pk=int(row["object_id"])).values_list("role_id", flat=True).first()
        if role_id is not None:
            links.setdefault(str(role_id), []).append(row["id"])
    for role_id, ids in links.items():
        for start in range(0, len(ids), 500):
            AuditEvent.objects.filter(pk__in=ids[start:start + 500]).update(parent_type="role", parent_id=role_id)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0007_audit_parent_link_chain_v3"),
        ("roles", "0003_role_name_from_cloudformation_and_policy_logical_id"),
    ]

    operations = [migrations.RunPython(fill_policy_parents, migrations.RunPython.noop)]
