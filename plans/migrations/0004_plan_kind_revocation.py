from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("plans", "0003_plan_editor_ids"),
    ]

    operations = [
        migrations.AlterField(
            model_name="plan",
            name="kind",
            field=models.CharField(
                choices=[("converge", "Converge"), ("teardown", "Teardown"), ("revocation", "Revocation")],
                default="converge",
                max_length=20,
            ),
        ),
    ]
