from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Console"

    def ready(self):
        from django.contrib.auth import signals
        from django.core import checks

        from core import log_redaction, login_audit, sso, sudo

        log_redaction.install()
        signals.user_logged_in.connect(login_audit.record_login, dispatch_uid=login_audit.LOGIN_RECEIVER)
        signals.user_logged_in.connect(sudo.confirm_on_login, dispatch_uid="core.sudo.confirm_on_login")
        signals.user_login_failed.connect(login_audit.record_login_failed, dispatch_uid="core.login_audit.login_failed")
        signals.user_logged_out.connect(login_audit.record_logout, dispatch_uid="core.login_audit.logout")
        checks.register(sso.check_sso_settings)
