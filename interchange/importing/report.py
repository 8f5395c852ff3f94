"""What an import created, changed and left alone, as the lines the command prints."""
from collections import Counter
from dataclasses import dataclass, field

CREATED, CHANGED, UNCHANGED = "created", "changed", "unchanged"
LEFT_IN_PLACE_SHOWN = 50
_PLURALS = {"master account": "master account", "IAM user": "IAM users", "policy": "policies"}


@dataclass
class Outcome:
    kind: str
    name: str
    status: str
    changed_fields: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    sources: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    left_in_place: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False

    def record(self, kind: str, name: str, before: dict | None, after: dict) -> None:
        if before is None:
            self.outcomes.append(Outcome(kind, name, CREATED))
        elif before == after:
            self.outcomes.append(Outcome(kind, name, UNCHANGED))
        else:
            changed = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
            self.outcomes.append(Outcome(kind, name, CHANGED, changed))

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def has_changes(self) -> bool:
        return any(outcome.status != UNCHANGED for outcome in self.outcomes)

    def summary(self) -> dict:
        return {status: self.count(status) for status in (CREATED, CHANGED, UNCHANGED)}

    def lines(self) -> list[str]:
        lines = [f"Import from {', '.join(self.sources)}" + (" (dry run)" if self.dry_run else "")]
        for outcome in self.outcomes:
            if outcome.status == CREATED:
                lines.append(f"  created  {outcome.kind} {outcome.name}")
            elif outcome.status == CHANGED:
                lines.append(f"  changed  {outcome.kind} {outcome.name} ({', '.join(outcome.changed_fields)})")
        unchanged = Counter(outcome.kind for outcome in self.outcomes if outcome.status == UNCHANGED)
        if unchanged:
            parts = [f"{count} {_plural(kind) if count != 1 else kind}" for kind, count in unchanged.items()]
            lines.append(f"  unchanged: {', '.join(parts)}")
        if self.left_in_place:
            lines.append("Not in these files, left as they are (an import never removes anything):")
            lines.extend(f"  {item}" for item in self.left_in_place[:LEFT_IN_PLACE_SHOWN])
            if len(self.left_in_place) > LEFT_IN_PLACE_SHOWN:
                lines.append(f"  … and {len(self.left_in_place) - LEFT_IN_PLACE_SHOWN} more.")
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"  {note}" for note in self.notes)
        counts = self.summary()
        lines.append(f"{counts[CREATED]} created, {counts[CHANGED]} changed, {counts[UNCHANGED]} unchanged.")
        if self.dry_run:
            lines.append("Dry run: nothing was saved.")
        elif not self.has_changes:
            lines.append("Nothing to change: the console already matches these files.")
        return lines


def _plural(kind: str) -> str:
    return _PLURALS.get(kind, f"{kind}s")
