import logging

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate

logger = logging.getLogger(__name__)


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit history"

    def ready(self):
        post_migrate.connect(reseal_after_migrate, sender=self, dispatch_uid="audit-reseal-after-migrate")


def reseal_after_migrate(sender, *, apps=None, using=DEFAULT_DB_ALIAS, stdout=None, **kwargs):
    """The upgrade's reseal step: rows written before the audit key existed are verified, then sealed with it."""
    from audit.models import AuditEvent
    from audit.reseal import legacy_rows_exist, reseal_legacy_chain
    from audit.services import Actor

    if using != DEFAULT_DB_ALIAS or apps is None:
        return
    try:
        historical = apps.get_model("audit", "AuditEvent")
    except LookupError:
        return
    if "chain_version" not in {field.name for field in historical._meta.get_fields()}:
        return  # migrated back to before the keyed chain
    if not legacy_rows_exist():
        return
    result = reseal_legacy_chain(actor=Actor.system("system:migrate", source=AuditEvent.Source.CLI))
    (logger.info if result.ok else logger.error)("Audit chain: %s", result.message)
    if stdout is not None:
        stdout.write(f"  Audit chain: {result.message}\n")
