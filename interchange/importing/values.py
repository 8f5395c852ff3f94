"""Type checks for values read from YAML or JSON, phrased for the person who wrote the file."""


def describe_type(value) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        if len(value) == 1:
            key = next(iter(value))
            if isinstance(key, str) and (key == "Ref" or key.startswith("Fn::")):
                return f"a CloudFormation function ({key})"
        return "a mapping"
    return type(value).__name__


def expect_text(value, *, where: str, problems, number_allowed: bool = False) -> str | None:
    """``value`` as text, or ``None`` after recording a problem. Whole numbers pass when ``number_allowed``."""
    if isinstance(value, str):
        return value
    if number_allowed and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    problems.add(f"{where}: expected text, found {describe_type(value)}.")
    return None


def expect_bool(value, *, where: str, problems) -> bool | None:
    if isinstance(value, bool):
        return value
    problems.add(f"{where}: expected true or false, found {describe_type(value)}.")
    return None


def expect_mapping(value, *, where: str, problems, empty_allowed: bool = False) -> dict | None:
    if isinstance(value, dict):
        return value
    if value is None and empty_allowed:
        return {}
    problems.add(f"{where}: expected a mapping (key: value lines), found {describe_type(value)}.")
    return None


def expect_document(data, *, where: str, problems, needs: str) -> dict | None:
    """A whole file's top level as a mapping, or ``None`` after recording a problem; ``needs`` says what
    an empty file lacks ("it needs …")."""
    if data is None:
        problems.add(f"{where}: the file is empty; {needs}")
        return None
    return expect_mapping(data, where=where, problems=problems)


def expect_list(value, *, where: str, problems, empty_allowed: bool = False) -> list | None:
    if isinstance(value, list):
        return value
    if value is None and empty_allowed:
        return []
    problems.add(f"{where}: expected a list (“- item” lines), found {describe_type(value)}.")
    return None


def unknown_keys(mapping: dict, known, *, where: str, problems) -> None:
    for key in mapping:
        if key not in known:
            problems.add(f"{where}: unknown key “{key}” (known keys: {', '.join(sorted(known))}).")
