from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Plans and jobs"

    def ready(self):
        from core.state_check import register_desired_state_check, register_desired_state_document
        from plans.desired import check_desired_state, desired_state_document

        # accounts and roles run the whole-state check in their edits but may not import plans.
        register_desired_state_check(check_desired_state)
        register_desired_state_document(desired_state_document)  # drift compares live AWS with it
