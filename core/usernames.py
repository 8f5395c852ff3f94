"""Console user names that cannot be mistaken for one another.

Four eyes compare user ids, but people read names: on the plan page, in the audit history, in the
list of console users. A name that looks like another person's (``аpprover`` with a Cyrillic а next
to ``approver``, ``AIice`` with a capital i next to ``alice``) would let one person pass for another
there. So every name is normalised (NFKC, as Django's own ``User.clean`` does) and refused when it
is confusable with an existing one, by comparing Unicode TR39 "skeletons" built from the
confusables data that the ``confusable-homoglyphs`` package ships (Unicode's confusables.txt).
"""
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from confusable_homoglyphs import confusables

# confusables.txt writes right-to-left characters between these marks; they are not part of them.
_DIRECTION_MARKS = dict.fromkeys(map(ord, "\u200e\u200f"))


def normalise(username: str) -> str:
    return unicodedata.normalize("NFKC", username or "").strip()


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    """Each confusable character → the prototype it stands for.

    The package stores every line ``source → prototype`` of confusables.txt in both directions, so a
    source has exactly one entry (its prototype) and a prototype lists its sources. A prototype with a
    single source looks the same as its source; either way round, both get the same representative.
    """
    data = confusables.confusables_data
    prototypes = {}
    for key, entries in data.items():
        source = key.translate(_DIRECTION_MARKS)
        if len(source) != 1 or len(entries) != 1:
            continue
        target_key = entries[0]["c"]
        target = target_key.translate(_DIRECTION_MARKS)
        if len(target) == 1 and len(data.get(target_key, ())) == 1:
            target = min(source, target)  # a pair: the same representative for both
        if target != source:
            prototypes[source] = target
    return prototypes


def skeleton(text: str) -> str:
    """TR39's skeleton: two strings that look alike have the same skeleton."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(char, char) for char in decomposed))


def _keys(username: str) -> frozenset[str]:
    # Case is ignored too ("Alice" and "alice"), but a capital I must still count as an l, which
    # folding the case first would lose: hence the skeleton with and without folding.
    name = normalise(username)
    plain = skeleton(name)
    return frozenset({plain, skeleton(name.casefold()), skeleton(plain.casefold())})


def confusable_with(username: str, existing: Iterable[str]) -> str | None:
    """The first of ``existing`` that ``username`` could be mistaken for (itself included), or None."""
    keys = _keys(username)
    for other in existing:
        if keys & _keys(other):
            return other
    return None


def mixes_scripts_confusably(username: str) -> bool:
    """A name that mixes scripts with a look-alike letter (a Cyrillic а among Latin letters) exists
    only to be mistaken for another; it is refused even before the name it imitates exists."""
    return bool(confusables.is_dangerous(normalise(username)))


def username_problem(username: str, *, existing: Iterable[str]) -> str:
    """Why ``username`` may not be used next to the ``existing`` names, or an empty string."""
    name = normalise(username)
    other = confusable_with(name, existing)
    if other == name:
        return f"A console user named {name} already exists."
    if other is not None:
        return f"The user name {name} looks too much like the existing console user {other}; choose a clearly different name."
    if mixes_scripts_confusably(name):
        return (f"The user name {name} mixes alphabets with letters that look like others "
                "(for example a Cyrillic а among Latin letters); use one alphabet.")
    return ""
