"""A webhook setting that cannot work is said at start (``manage.py check``, runserver, migrate), not
discovered when the first delivery fails; the deliveries page says it too."""
from django.core.checks import Warning, register


@register()
def webhook_settings(app_configs, **kwargs):
    from notifications.services import webhook_setting_problem

    problem = webhook_setting_problem()
    if not problem:
        return []
    return [Warning(problem, hint="Webhook deliveries are recorded as failed until this is fixed.",
                    id="notifications.W001")]
