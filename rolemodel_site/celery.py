import os

from celery import Celery

from rolemodel_site import file_broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rolemodel_site.settings")

# kombu's own file transport can hand a worker a message before it is written (the worker then
# stops); ours writes each message under a temporary name and renames it into place.
file_broker.register()
app = Celery("rolemodel_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
