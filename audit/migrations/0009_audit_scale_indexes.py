"""Indexes for an audit history of millions of rows: newest first (alone, by type, by action) for the
keyset pages, and on PostgreSQL trigram indexes for the text and person searches.

The searches are Django's ``icontains``, which PostgreSQL runs as ``UPPER(column::text) LIKE
UPPER('%…%')``: the GIN indexes are on exactly those expressions, with ``gin_trgm_ops`` from the
``pg_trgm`` extension. SQLite has neither; there the searches read the newest-first index and
stay slower on a large history (README, "Audit history at scale").

``CREATE EXTENSION pg_trgm`` needs a user allowed to create it (since PostgreSQL 13 the database's
owner may: the extension is "trusted"). When it is not allowed, the migration stops with what to
run, rather than leaving the search to read every row of a large table unnoticed.
"""
import django.utils.timezone
from django.conf import settings
from django.db import DatabaseError, migrations, models

# (index name, column): one trigram index per column the text or person search reads.
TRIGRAM_INDEXES = (("audit_repr_trgm_idx", "object_repr"), ("audit_reason_trgm_idx", "reason"),
                   ("audit_actor_trgm_idx", "actor_name"))


def create_trigram_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            try:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except DatabaseError as error:
                raise RuntimeError(
                    f"The audit search needs the PostgreSQL extension pg_trgm, and this database user may not create "
                    f"it ({str(error).strip()}). Run `CREATE EXTENSION IF NOT EXISTS pg_trgm;` as a superuser in the "
                    f"database {connection.settings_dict['NAME']!r}, then migrate again."
                ) from None
        table = schema_editor.quote_name("audit_auditevent")
        for name, column in TRIGRAM_INDEXES:
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} ON {table} "
                           f"USING gin (UPPER({schema_editor.quote_name(column)}::text) gin_trgm_ops)")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _ in TRIGRAM_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0008_fill_policy_parents'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['created_at', 'id'], name='audit_newest_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['object_type', 'created_at', 'id'], name='audit_type_newest_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['action', 'created_at', 'id'], name='audit_action_newest_idx'),
        ),
        # Drops the single-column indexes the new ones lead with.
        migrations.AlterField(
            model_name='auditevent',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='object_type',
            field=models.CharField(choices=[('account', 'Account'), ('master account', 'Master account'), ('role', 'Role'), ('policy', 'Inline policy'), ('IAM user', 'IAM user'), ('membership', 'Membership'), ('plan', 'Plan'), ('console user', 'Console user'), ('import', 'Import'), ('audit_chain', 'Audit chain')], max_length=50),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
