from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The console's own pages: the dashboard, console users, single sign-on and the login audit."""

    name = "console"
    verbose_name = "Console pages"

    def ready(self):
        from django.contrib.auth import signals
        from django.core import checks

        from console import login_audit, sso

        signals.user_logged_in.connect(login_audit.record_login, dispatch_uid=login_audit.LOGIN_RECEIVER)
        signals.user_login_failed.connect(login_audit.record_login_failed, dispatch_uid="console.login_audit.login_failed")
        signals.user_logged_out.connect(login_audit.record_logout, dispatch_uid="console.login_audit.logout")
        checks.register(sso.check_sso_settings)
