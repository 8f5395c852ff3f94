"""Console user names that cannot be mistaken for one another (core/usernames.py, issue 8 found #2)."""
import pytest

from core import usernames

EXISTING = ["approver", "april", "alice", "root", "bob"]


@pytest.mark.parametrize(
    "name, looks_like",
    [
        ("\u0430pprover", "approver"),  # Cyrillic а
        ("Approver", "approver"),
        ("APPROVER", "approver"),
        ("apriI", "april"),  # a capital i for the l
        ("apri1", "april"),
        ("AIice", "alice"),
        ("ALICE", "alice"),
        ("r\u043e\u043et", "root"),  # Cyrillic о twice
        ("b0b", "bob"),
        ("\uff41pprover", "approver"),  # fullwidth ａ: NFKC makes it the very same name
    ],
)
def test_a_look_alike_of_an_existing_name_is_named(name, looks_like):
    assert usernames.confusable_with(name, EXISTING) == looks_like
    assert looks_like in usernames.username_problem(name, existing=EXISTING)


@pytest.mark.parametrize("name", ["zoe", "approver2", "bob.smith", "josé", "müller", "ann-marie", "eddie_ops"])
def test_clearly_different_names_are_accepted(name):
    assert usernames.username_problem(name, existing=EXISTING) == ""


def test_a_name_in_one_other_alphabet_is_compared_by_its_look():
    cyrillic_ape = "\u0430\u0440\u0435"  # а р е
    assert usernames.username_problem(cyrillic_ape, existing=["zoe"]) == ""
    assert "looks too much like the existing console user" in usernames.username_problem("ape", existing=[cyrillic_ape])


def test_a_name_mixing_alphabets_with_look_alike_letters_is_refused_even_alone():
    problem = usernames.username_problem("\u0430pprover", existing=[])
    assert "mixes alphabets" in problem


def test_names_are_normalised_with_nfkc():
    assert usernames.normalise(" \uff5a\uff4f\uff45 ") == "zoe"
    assert usernames.normalise("ﬁona") == "fiona"
    assert usernames.username_problem("\uff41pprover", existing=EXISTING) == "A console user named approver already exists."
