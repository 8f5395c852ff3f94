import logging

from django.apps import AppConfig
from django.core import checks
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate

logger = logging.getLogger(__name__)


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit history"

    def ready(self):
        checks.register(audit_key_check, checks.Tags.security)
        post_migrate.connect(reseal_after_migrate, sender=self, dispatch_uid="audit-reseal-after-migrate")


def audit_key_check(app_configs=None, **kwargs):
    """Every audit row needs the key: a bad one is said at start-up, not as a failure of the first change."""
    from django.core.exceptions import ImproperlyConfigured

    from audit.keys import audit_key

    try:
        audit_key()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), hint="Set ROLEMODEL_AUDIT_KEY or ROLEMODEL_AUDIT_KEY_FILE.", id="audit.E001")]
    return []


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
