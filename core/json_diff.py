"""JSON values shown as a unified diff, and its lines sorted for colouring (plans' and drift's pages)."""
import difflib
import json


def pretty(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


def unified_diff(before, after, *, name: str, before_label: str = "live", after_label: str = "planned") -> str:
    """``before`` → ``after`` (None: absent), each labelled ``<name> (<label>)``."""
    before_lines = pretty(before).splitlines() if before is not None else []
    after_lines = pretty(after).splitlines() if after is not None else []
    return "\n".join(difflib.unified_diff(before_lines, after_lines, fromfile=f"{name} ({before_label})",
                                          tofile=f"{name} ({after_label})", lineterm=""))


def diff_lines(text: str):
    """Split a unified diff into (css class, line) pairs for colouring."""
    for line in (text or "").splitlines():
        if line.startswith(("+++", "---")):
            yield "diff-file", line
        elif line.startswith("@@"):
            yield "diff-hunk", line
        elif line.startswith("+"):
            yield "diff-add", line
        elif line.startswith("-"):
            yield "diff-remove", line
        else:
            yield "diff-context", line
