"""The keyed audit chain: a per-row chain version and the record of published heads.

Rows that exist already get version 1 (the unkeyed hash they were sealed with); new rows get 2.
The legacy rows are verified and resealed under the key right after migrate, by audit/apps.py's
post_migrate hook (``rolemodel audit reseal`` does the same by hand).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_workflow_action_labels'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditHeadPublication',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('published_at', models.DateTimeField()),
                ('last_id', models.BigIntegerField(null=True)),
                ('last_sequence', models.PositiveBigIntegerField()),
                ('last_hash', models.CharField(max_length=64)),
                ('rows', models.PositiveBigIntegerField()),
                ('previous_digest', models.CharField(blank=True, max_length=64)),
                ('signature', models.CharField(max_length=64)),
                ('digest', models.CharField(max_length=64, unique=True)),
            ],
            options={
                'ordering': ['-id'],
            },
        ),
        migrations.AddField(
            model_name='auditevent',
            name='chain_version',
            field=models.PositiveSmallIntegerField(default=1, editable=False),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='chain_version',
            field=models.PositiveSmallIntegerField(default=2, editable=False),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('create', 'Created'), ('update', 'Changed'), ('delete', 'Removed'), ('import', 'Imported'), ('login', 'Logged in'), ('login_failed', 'Failed login'), ('logout', 'Logged out'), ('plan_requested', 'Requested'), ('plan_computed', 'Computed'), ('plan_failed', 'Failed to compute'), ('plan_superseded', 'Superseded'), ('plan_approved', 'Approved'), ('plan_rejected', 'Rejected'), ('apply_requested', 'Apply requested for'), ('apply_succeeded', 'Applied'), ('apply_failed', 'Failed to apply'), ('chain_resealed', 'Resealed under the audit key')], max_length=30),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
    ]
