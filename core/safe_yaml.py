"""A YAML loader for files people hand to the importer: CloudFormation short forms, nothing dangerous.

It is PyYAML's ``SafeLoader`` with four changes:

1. CloudFormation's short-form tags (``!Ref``, ``!Sub``, ``!GetAtt`` …) become the long-form
   dicts (``{"Ref": …}``, ``{"Fn::Sub": …}``) that JSON templates use.
2. Scalars are typed the way JSON and CloudFormation see them: ``2012-10-17`` stays text instead
   of becoming a date, and ``012345678901`` stays text instead of becoming an octal number, so
   account ids and policy versions survive. Only ``true``/``false`` are booleans (``no`` is text).
3. Anchors and aliases work, within a budget: more than ``MAX_ALIAS_USES`` alias uses, or a document
   that would expand to more than ``MAX_NODES`` nodes or ``MAX_CHARACTERS`` characters of text or nest
   deeper than ``MAX_DEPTH``, is refused (a "billion laughs" file is a few hundred bytes that expand to
   gigabytes; a megabyte of text aliased a hundred times is as bad).
4. A key given twice in one mapping is an error instead of the last one silently winning.
5. A number that is not finite (``.inf``, ``-.inf``, ``.nan``, ``1.0e999``) is refused: nothing can store it.

Every refusal is a :class:`YAMLInputError` whose message names the source and the line.
"""
import math
import re

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from core.safe_json import non_finite_message
from core.validators import shown_safely

MAX_ALIAS_USES = 100
MAX_NODES = 100_000
MAX_CHARACTERS = 10_000_000
MAX_DEPTH = 64

# Tags whose argument becomes the value of a ``Fn::<name>`` key.
_FUNCTION_TAGS = (
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
)

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0x[0-9a-fA-F]+|0o[0-7]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


class YAMLInputError(ValueError):
    """A YAML document that cannot be loaded; the message names the source and line."""


class CloudFormationLoader(yaml.SafeLoader):
    """``SafeLoader`` plus CloudFormation short forms and an expansion budget (see the module docstring)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._alias_uses = 0
        self._node_count = 0
        self._character_count = 0
        self._depth = 0
        self._subtree_sizes = {}
        self._checked_mappings = set()

    # -- composer: budget for nodes, aliases and depth -------------------------------------------
    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            self._alias_uses += 1
            if self._alias_uses > MAX_ALIAS_USES:
                raise ComposerError(None, None, f"more than {MAX_ALIAS_USES} aliases (*name); refused", mark)
            node = super().compose_node(parent, index)
            size = self._subtree_sizes.get(id(node))
            if size is None:
                raise ComposerError(None, None, "an alias refers to the mapping or list that contains it", mark)
            self._count_nodes(*size, mark)
            return node
        mark = self.peek_event().start_mark
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep; refused", mark)
        start_nodes, start_characters = self._node_count, self._character_count
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._count_nodes(1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0, mark)
        self._subtree_sizes[id(node)] = (self._node_count - start_nodes, self._character_count - start_characters)
        return node

    def _count_nodes(self, how_many, characters, mark):
        self._node_count += how_many
        self._character_count += characters
        if self._node_count > MAX_NODES:
            raise ComposerError(
                None, None, f"the document expands to more than {MAX_NODES:,} values (too large, or too many aliases)", mark
            )
        if self._character_count > MAX_CHARACTERS:
            raise ComposerError(
                None,
                None,
                f"the document expands to more than {MAX_CHARACTERS:,} characters of text "
                "(too many aliases of long text)",
                mark,
            )

    # -- constructor: duplicate keys --------------------------------------------------------------
    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode) and id(node) not in self._checked_mappings:
            self._checked_mappings.add(id(node))
            seen = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise ConstructorError(
                        None,
                        None,
                        f"the key “{key_node.value}” is given twice (first on line {seen[key] + 1})",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


# YAML 1.2-style implicit typing: replace SafeLoader's resolvers (bool/int/float/null/timestamp).
CloudFormationLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:merge"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
    ("tag:yaml.org,2002:int", _INT, "-+0123456789"),
    ("tag:yaml.org,2002:float", _FLOAT, "-+0123456789."),
    ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
):
    CloudFormationLoader.add_implicit_resolver(_tag, _pattern, list(_first))


def _construct_int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0x"):
        return int(text, 16)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text)


def _refuse(loader, node):
    raise ConstructorError(None, None, f"the tag {node.tag} is not allowed in these files", node.start_mark)


def _refusing_bad_values(construct, kind: str):
    """A scalar constructor that names the line of a value it cannot read (``!!int abc``, ``!!bool maybe``,
    an integer of more than 4,300 digits) instead of raising a bare ``ValueError`` or ``KeyError``."""

    def construct_or_refuse(loader, node):
        try:
            return construct(loader, node)
        except (ValueError, KeyError, IndexError):
            shown = shown_safely(node.value)
            raise ConstructorError(None, None, f"“{shown}” cannot be read as {kind}", node.start_mark) from None

    return construct_or_refuse


CloudFormationLoader.add_constructor("tag:yaml.org,2002:int", _refusing_bad_values(_construct_int, "a whole number"))
def _construct_finite_float(loader, node):
    # .inf, -.inf, .nan and 1.0e999 (which overflows to infinity): no database or AWS API takes them.
    value = yaml.SafeLoader.construct_yaml_float(loader, node)
    if not math.isfinite(value):
        raise ConstructorError(None, None, non_finite_message(shown_safely(node.value)), node.start_mark)
    return value


CloudFormationLoader.add_constructor(
    "tag:yaml.org,2002:float", _refusing_bad_values(_construct_finite_float, "a number")
)
CloudFormationLoader.add_constructor(
    "tag:yaml.org,2002:bool", _refusing_bad_values(yaml.SafeLoader.construct_yaml_bool, "true or false")
)
for _unsupported in ("timestamp", "binary", "set", "omap", "pairs"):
    CloudFormationLoader.add_constructor(f"tag:yaml.org,2002:{_unsupported}", _refuse)


def _argument(loader, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _function_constructor(key):
    def construct(loader, node):
        return {key: _argument(loader, node)}

    return construct


def _construct_get_att(loader, node):
    value = _argument(loader, node)
    if isinstance(value, str):
        # The short form "Resource.Attribute" splits at the first dot only (attributes may contain dots).
        resource, _, attribute = value.partition(".")
        if not attribute:
            raise ConstructorError(None, None, f"!GetAtt “{value}” needs the form Resource.Attribute", node.start_mark)
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


for _name in _FUNCTION_TAGS:
    CloudFormationLoader.add_constructor(f"!{_name}", _function_constructor(f"Fn::{_name}"))
CloudFormationLoader.add_constructor("!GetAtt", _construct_get_att)
CloudFormationLoader.add_constructor("!Ref", _function_constructor("Ref"))
CloudFormationLoader.add_constructor("!Condition", _function_constructor("Condition"))


def describe_yaml_error(error: yaml.YAMLError, *, source: str) -> str:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = (getattr(error, "problem", None) or str(error)).rstrip(".")
    context = getattr(error, "context", None)
    if context:
        problem = f"{problem} ({context})"
    if mark is not None:
        return f"{source}, line {mark.line + 1}, column {mark.column + 1}: {problem}."
    return f"{source}: {problem}."


def load_yaml(text: str, *, source: str):
    """Load one YAML document from ``text``; ``source`` names it in error messages."""
    loader = CloudFormationLoader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as error:
        raise YAMLInputError(describe_yaml_error(error, source=source)) from None
    except RecursionError:
        raise YAMLInputError(f"{source}: the document is nested too deeply.") from None
    finally:
        loader.dispose()
