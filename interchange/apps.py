from django.apps import AppConfig


class InterchangeConfig(AppConfig):
    """Reading and writing the original rolemodel tool's files (config, templates, user map)."""

    name = "interchange"
    verbose_name = "The original tool's files"
