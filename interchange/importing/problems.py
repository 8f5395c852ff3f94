"""Collecting every problem in the files before refusing them, instead of stopping at the first."""
from django.core.exceptions import ValidationError


class ImportRefused(Exception):
    """The files cannot be imported; ``problems`` lists every reason found, each naming file and key."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Problems:
    def __init__(self):
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)

    def add_validation_error(self, where: str, error: ValidationError, *, field_labels: dict | None = None) -> None:
        """Add each message of ``error``, naming the file key of the model field it is about."""
        field_labels = field_labels or {}
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                label = field_labels.get(field, field)
                prefix = where if field == "__all__" or not label else f"{where}, {label}"
                for message in messages:
                    self.add(f"{prefix}: {message}")
        else:
            for message in error.messages:
                self.add(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self.messages:
            raise ImportRefused(list(self.messages))
