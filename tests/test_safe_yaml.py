import pytest

from core.safe_yaml import MAX_ALIAS_USES, MAX_DEPTH, YAMLInputError, load_yaml


def load(text):
    return load_yaml(text, source="roles.yml")


def refusal(text) -> str:
    with pytest.raises(YAMLInputError) as error:
        load(text)
    return str(error.value)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("!Ref AssumingAccountID", {"Ref": "AssumingAccountID"}),
        ("!Sub 'arn:aws:iam::${AssumingAccountID}:root'", {"Fn::Sub": "arn:aws:iam::${AssumingAccountID}:root"}),
        ("!Sub ['${A}-x', {A: !Ref B}]", {"Fn::Sub": ["${A}-x", {"A": {"Ref": "B"}}]}),
        ("!GetAtt AdminRole.Arn", {"Fn::GetAtt": ["AdminRole", "Arn"]}),
        ("!GetAtt Stack.Outputs.Name", {"Fn::GetAtt": ["Stack", "Outputs.Name"]}),
        ("!GetAtt [AdminRole, Arn]", {"Fn::GetAtt": ["AdminRole", "Arn"]}),
        ("!Join [':', [a, !Ref B]]", {"Fn::Join": [":", ["a", {"Ref": "B"}]]}),
        ("!If [IsProd, a, !Ref AWS::NoValue]", {"Fn::If": ["IsProd", "a", {"Ref": "AWS::NoValue"}]}),
        ("!Select [0, !GetAZs '']", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
        ("!Split [',', 'a,b']", {"Fn::Split": [",", "a,b"]}),
        ("!FindInMap [Map, Key, Value]", {"Fn::FindInMap": ["Map", "Key", "Value"]}),
        ("!Base64 text", {"Fn::Base64": "text"}),
        ("!Equals [a, b]", {"Fn::Equals": ["a", "b"]}),
        ("!Not [!Condition IsProd]", {"Fn::Not": [{"Condition": "IsProd"}]}),
        ("!And [!Condition A, !Condition B]", {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}),
        ("!Or [!Condition A, !Condition B]", {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}),
        ("!ImportValue shared-vpc", {"Fn::ImportValue": "shared-vpc"}),
    ],
)
def test_short_form_tags_become_the_long_form(text, expected):
    assert load(text) == expected


def test_scalars_are_typed_the_way_json_and_cloudformation_see_them():
    loaded = load(
        "version: 2012-10-17\nid: 012345670123\nplain_id: 123456789012\nanswer: no\nflag: false\n"
        "hours: 1.5\nhex: 0x1F\nnothing: ~\n"
    )
    assert loaded == {
        "version": "2012-10-17",
        "id": "012345670123",
        "plain_id": 123456789012,
        "answer": "no",
        "flag": False,
        "hours": 1.5,
        "hex": 31,
        "nothing": None,
    }


def test_anchors_and_merge_keys_within_the_budget_still_work():
    assert load("base: &base {a: 1}\ncopy: *base\nmerged:\n  <<: *base\n  b: 2\n") == {
        "base": {"a": 1},
        "copy": {"a": 1},
        "merged": {"a": 1, "b": 2},
    }


def test_an_alias_bomb_is_refused_before_it_expands():
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, current in zip("abcdefgh", "bcdefghi"):
        levels.append(f"{current}: &{current} [{', '.join(['*' + previous] * 9)}]")
    assert "expands to more than 100,000 values" in refusal("\n".join(levels))


def test_too_many_alias_uses_are_refused():
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIAS_USES + 1)) + "]\n"
    assert f"roles.yml, line 2, column {4 + 4 * MAX_ALIAS_USES + 1}: more than {MAX_ALIAS_USES} aliases" in refusal(text)


def test_an_alias_inside_its_own_anchor_is_refused():
    assert "an alias refers to the mapping or list that contains it" in refusal("&a [*a]")


def test_deep_nesting_is_refused():
    depth = MAX_DEPTH + 1
    assert f"nested more than {MAX_DEPTH} levels deep" in refusal("[" * depth + "]" * depth)


def test_a_key_given_twice_is_refused_with_both_lines():
    assert refusal("a: 1\nb: 2\na: 3\n") == "roles.yml, line 3, column 1: the key “a” is given twice (first on line 1)."


def test_syntax_errors_name_the_line_and_column():
    assert refusal("a: 1\nb: [1, 2\nc: 3\n").startswith("roles.yml, line 3, column 2:")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a: !NotAFunction x", "could not determine a constructor for the tag '!NotAFunction'"),
        ("a: !!python/object:os.system x", "could not determine a constructor"),
        ("a: !!timestamp 2001-12-14", "the tag tag:yaml.org,2002:timestamp is not allowed"),
        ("a: !!set {x, y}", "the tag tag:yaml.org,2002:set is not allowed"),
        ("a: !!binary aGVsbG8=", "the tag tag:yaml.org,2002:binary is not allowed"),
        ("!GetAtt NoAttribute", "!GetAtt “NoAttribute” needs the form Resource.Attribute"),
        ("a: *undefined", "found undefined alias"),
        ("--- a\n--- b\n", "but found another document"),
    ],
)
def test_unsafe_or_unknown_constructs_are_refused(text, expected):
    assert expected in refusal(text)
