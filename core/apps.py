from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor: permissions, limits, validators, safe parsers, sudo, throttling, log redaction."""

    name = "core"
    verbose_name = "Console"

    def ready(self):
        from django.contrib.auth import signals

        from core import log_redaction, sudo

        log_redaction.install()
        signals.user_logged_in.connect(sudo.confirm_on_login, dispatch_uid="core.sudo.confirm_on_login")
