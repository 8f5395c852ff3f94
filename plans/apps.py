from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Plans and jobs"

    def ready(self):
        from core.state_check import register_desired_state_check
        from plans.desired import check_desired_state

        # accounts and roles run the whole-state check in their edits but may not import plans.
        register_desired_state_check(check_desired_state)
