"""Reading a spec's YAML safely: bounded in size, nesting, aliases and expansion, with located one-line errors.

A spec file is untrusted input. It is refused (SpecError naming file and line) when it is larger than
`MAX_SPEC_BYTES`, not UTF-8, not YAML, nested deeper than `MAX_DEPTH`, uses more than `MAX_ALIASES` aliases,
expands (through aliases, e.g. "billion laughs", or a recursive anchor) to more than `MAX_VALUES` values, or
writes an impossible date such as 2024-02-30.
"""

from __future__ import annotations

# Any here: a YAML document's value: untyped until the spec models validate it.
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import Node

from ..errors import SpecError

MAX_SPEC_BYTES = 2_000_000
MAX_DEPTH = 64
MAX_ALIASES = 10_000
MAX_VALUES = 500_000


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a depth and alias budget checked while composing (before any recursion)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise ComposerError(None, None, f"more than {MAX_ALIASES:,} aliases", event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_timestamp(loader: SafeConstructor, node: Node) -> Any:
    """A YAML date or timestamp; an impossible one (2024-02-30) is an error at its line, not a crash."""
    try:
        return SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:
        raise ConstructorError(None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark) from None


_BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

# The package's own specs are not untrusted input: libyaml's C parser reads them (weather.yaml: 7 ms against
# the bounded Python loader's 40 ms, measured here; the same values). Its composer recurses in C without the
# depth and alias budget, so a user's file never goes through it. Without libyaml: the bounded loader.
_TRUSTED_BASE: Any = getattr(yaml, "CSafeLoader", _BoundedLoader)


class _TrustedLoader(_TRUSTED_BASE):
    pass


_TrustedLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def decode_spec(data: bytes, source: str) -> str:
    """The text of a spec file's bytes.

    Raises:
        SpecError: the file is too large or not UTF-8 (naming the line of the first bad byte).
    """
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(f"{source}: the spec is {len(data):,} bytes; a spec may be at most {MAX_SPEC_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError(f"{source}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}); save the spec as UTF-8") from None


def parse_spec(text: str, source: str, *, trusted: bool = False) -> Any:
    """The YAML value of a spec's text, checked to be small enough to substitute and validate. `trusted`: text
    shipped with the package (a built-in dataset), read by libyaml where PyYAML has it.

    Raises:
        SpecError: not valid YAML, too deep, too many aliases or values, or an impossible date.
    """
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(f"{source}: the spec is {len(text):,} characters; a spec may be at most {MAX_SPEC_BYTES:,}")
    loader = _TrustedLoader(text) if trusted else _BoundedLoader(text)
    try:
        value = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{source}{where}: not valid YAML ({problem})") from None
    except (RecursionError, TypeError) as exc:  # e.g. a recursive anchor used as a mapping key
        raise SpecError(f"{source}: not a usable YAML document ({type(exc).__name__}: {exc})") from None
    finally:
        loader.dispose()
    check_expansion(value, source)
    return value


def check_expansion(value: Any, source: str) -> None:
    """Refuse a document that expands to more than MAX_VALUES values or nests deeper than MAX_DEPTH once aliases
    are followed (shared and recursive nodes count every time they are reached)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise SpecError(
                f"{source}: the spec expands to more than {MAX_VALUES:,} values (YAML aliases or a recursive anchor?)"
            )
        if depth > MAX_DEPTH:
            raise SpecError(f"{source}: the spec nests deeper than {MAX_DEPTH} levels (a recursive anchor?)")
        if isinstance(node, dict):
            stack.extend((item, depth + 1) for pair in node.items() for item in pair)
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
