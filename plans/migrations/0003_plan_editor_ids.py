from django.db import migrations, models


def editor_ids_from_names(apps, schema_editor):
    """Plans computed before ids were recorded: their editors' names are mapped to the users who
    hold those names now (a rename after the upgrade no longer matters)."""
    Plan = apps.get_model("plans", "Plan")
    User = apps.get_model("auth", "User")
    ids_by_name = dict(User.objects.values_list("username", "pk"))
    for plan in Plan.objects.only("pk", "editors").iterator():
        if not plan.editors:
            continue
        ids = sorted({ids_by_name[name] for name in plan.editors if name in ids_by_name})
        Plan.objects.filter(pk=plan.pk).update(editor_ids=ids)


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("plans", "0002_plan_created_change_sets"),
    ]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="editor_ids",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(editor_ids_from_names, migrations.RunPython.noop),
    ]
