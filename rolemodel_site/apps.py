from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The site itself: what every process does once Django is set up (never at settings import)."""

    name = "rolemodel_site"
    verbose_name = "Rolemodel Console site"

    def ready(self):
        from django.conf import settings

        from rolemodel_site.local_files import create_database_folders

        create_database_folders(settings.DATABASES)
