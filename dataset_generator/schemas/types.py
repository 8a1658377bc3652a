"""The column type strings of the spec language, parsed in pure Python.

Scalars: int8..int64, uint8..uint64, float32, float64, bool, string, binary, date, time, timestamp,
timestamptz, duration; `decimal(P,S)` (1 <= P <= 38, 0 <= S <= P); `list<T>`; `struct<name: T, ...>`.
Nesting is free (`list<struct<sku: string, qty: int32>>`). A column's `type:` is kept as its canonical
spelling (`decimal(12,2)`, `struct<name: string, qty: int32>`), so `type == "int64"` tests keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

SIGNED_TYPES = ("int8", "int16", "int32", "int64")
UNSIGNED_TYPES = ("uint8", "uint16", "uint32", "uint64")
FLOAT_TYPES = ("float32", "float64")
TIMESTAMP_TYPES = ("timestamp", "timestamptz")
SCALAR_TYPES = (
    *SIGNED_TYPES, *UNSIGNED_TYPES, *FLOAT_TYPES, "bool", "string", "binary", "date", "time", *TIMESTAMP_TYPES, "duration",
)  # fmt: skip
MAX_DECIMAL_PRECISION = 38


@dataclass(frozen=True)
class DecimalType:
    precision: int
    scale: int

    def __str__(self) -> str:
        return f"decimal({self.precision},{self.scale})"


@dataclass(frozen=True)
class ListType:
    element: TypeNode

    def __str__(self) -> str:
        return f"list<{self.element}>"


@dataclass(frozen=True)
class StructType:
    fields: tuple[tuple[str, TypeNode], ...]

    def __str__(self) -> str:
        return "struct<" + ", ".join(f"{name}: {kind}" for name, kind in self.fields) + ">"


TypeNode = str | DecimalType | ListType | StructType
"""A parsed type: a scalar's name, or a decimal, list or struct."""


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def fail(self, problem: str) -> ValueError:
        return ValueError(f"type {self.text!r}, at character {self.at + 1}: {problem}")

    def skip_space(self) -> None:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1

    def word(self) -> str:
        self.skip_space()
        start = self.at
        while self.at < len(self.text) and (self.text[self.at].isalnum() or self.text[self.at] == "_"):
            self.at += 1
        if start == self.at:
            found = repr(self.text[self.at]) if self.at < len(self.text) else "the end"
            raise self.fail(f"expected a type name, found {found}")
        return self.text[start : self.at]

    def expect(self, char: str) -> None:
        self.skip_space()
        if self.at >= len(self.text) or self.text[self.at] != char:
            found = repr(self.text[self.at]) if self.at < len(self.text) else "the end"
            raise self.fail(f"expected {char!r}, found {found}")
        self.at += 1

    def peek(self, char: str) -> bool:
        self.skip_space()
        return self.at < len(self.text) and self.text[self.at] == char

    def number(self) -> int:
        self.skip_space()
        start = self.at
        while self.at < len(self.text) and self.text[self.at].isdigit():
            self.at += 1
        if start == self.at:
            raise self.fail("expected a whole number")
        return int(self.text[start : self.at])

    def node(self) -> TypeNode:
        start = self.at
        name = self.word().lower()
        if name == "decimal":
            self.expect("(")
            precision = self.number()
            self.expect(",")
            scale = self.number()
            self.expect(")")
            if not 1 <= precision <= MAX_DECIMAL_PRECISION:
                raise self.fail(f"decimal precision must be 1..{MAX_DECIMAL_PRECISION} (got {precision})")
            if scale > precision:
                raise self.fail(f"decimal scale {scale} is larger than its precision {precision}")
            return DecimalType(precision, scale)
        if name == "list":
            self.expect("<")
            element = self.node()
            self.expect(">")
            return ListType(element)
        if name == "struct":
            self.expect("<")
            fields: list[tuple[str, TypeNode]] = []
            while True:
                field = self.word()
                if any(field == seen for seen, _ in fields):
                    raise self.fail(f"struct field {field!r} appears twice")
                self.expect(":")
                fields.append((field, self.node()))
                if not self.peek(","):
                    break
                self.expect(",")
            self.expect(">")
            return StructType(tuple(fields))
        if name not in SCALAR_TYPES:
            self.at = start
            self.skip_space()
            raise self.fail(f"unknown type {name!r}; use one of {', '.join(SCALAR_TYPES)}, decimal(P,S), list<T>, struct<…>")
        return name


@lru_cache(maxsize=1024)
def parse_type(text: str) -> TypeNode:
    """The parsed form of a type string.

    Raises:
        ValueError: one line naming the type string, the problem and the character where it is.
    """
    if not isinstance(text, str):
        raise ValueError(f"a type must be a string such as 'int64' or 'decimal(12,2)' (got {text!r})")
    parser = _Parser(text)
    node = parser.node()
    parser.skip_space()
    if parser.at != len(text):
        raise parser.fail(f"unexpected {text[parser.at]!r}")
    return node


def normalize_type(text: str) -> str:
    """The canonical spelling of a type string (what a column's `type` holds)."""
    return str(parse_type(text))


def is_decimal(text: str) -> bool:
    return text.startswith("decimal(")


def is_nested(text: str) -> bool:
    return text.startswith(("list<", "struct<"))


def base_name(text: str) -> str:
    """`decimal`, `list`, `struct` or the scalar's name."""
    return text.split("(", 1)[0].split("<", 1)[0]
