"""Everything read from the three files, checked on its own, ready to check against the console."""
from dataclasses import dataclass

from interchange.importing.config_file import ConfigSpec
from interchange.importing.template_file import TemplateSpec
from interchange.importing.user_map import GroupSpec


@dataclass
class ImportSpec:
    config_source: str
    template_source: str
    users_source: str | None
    config: ConfigSpec
    template: TemplateSpec
    groups: list[GroupSpec] | None  # None when no user map was given
