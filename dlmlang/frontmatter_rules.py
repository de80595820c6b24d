"""The rules of the frontmatter's keys: every key known, every value of its kind and in its
range (dlmlang/schema.py holds the table; docs/format.md documents it)."""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from dlmlang.diagnostics import Diagnostic, Fix, diagnostic
from dlmlang.positions import Range
from dlmlang.schema import UNSUPPORTED, KeySpec, Kind
from dlmlang.suggest import closest, did_you_mean

_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")


def validate_mapping(
    node: yaml.MappingNode,
    spec: KeySpec,
    path: tuple[str, ...],
    problems: list[Diagnostic],
    ranges: dict[str, Range],
    where: Range,
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    seen: set[str] = set()
    unsupported = UNSUPPORTED.get(".".join(path), frozenset())
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        key_range = node_range(key_node)
        if not isinstance(key, str):
            problems.append(diagnostic("DLM015", "Frontmatter keys are plain names.", key_range))
            continue
        dotted = ".".join((*path, key))
        line_range = Range(key_range.start, node_range(value_node).end)
        if key in seen:
            problems.append(
                diagnostic("DLM020", f"`{dotted}` is set twice; keep one of them.", key_range)
            )
            continue
        seen.add(key)
        ranges[dotted] = line_range
        child = spec.child(key)
        if child is None:
            if key in unsupported:
                problems.append(
                    diagnostic(
                        "DLM016",
                        f"`{dotted}` is a DocumentLanguageModel setting that dlm does not "
                        "support; it is ignored. Remove it to silence this warning.",
                        key_range,
                    )
                )
            else:
                known = [c.name for c in spec.children]
                where_text = f"under `{'.'.join(path)}`" if path else "in the frontmatter"
                match = closest(key, known)
                fixes = (Fix(f"Rename to `{match}`", key_range, match),) if match else ()
                problems.append(
                    diagnostic(
                        "DLM015",
                        f"Unknown key `{key}` {where_text}.{did_you_mean(key, known)} "
                        f"Known keys: {', '.join(known)}.",
                        key_range,
                        *fixes,
                    )
                )
            continue
        value = _validate_value(value_node, child, (*path, key), problems, ranges, key_range)
        if value is not _INVALID:
            values[key] = value
    for child in spec.children:
        if child.required and child.name not in values and child.name not in seen:
            problems.append(
                diagnostic(
                    "DLM014",
                    f"The frontmatter needs `{child.name}`: {child.doc}",
                    Range(where.start, where.start) if path else Range.on_line(0, 0, 3),
                )
            )
    return values


_INVALID = object()


def _validate_value(
    node: yaml.Node,
    spec: KeySpec,
    path: tuple[str, ...],
    problems: list[Diagnostic],
    ranges: dict[str, Range],
    key_range: Range,
) -> Any:
    dotted = ".".join(path)
    where = node_range(node)
    if where.start == where.end:
        where = key_range  # an empty value: point at its key
    if spec.kind is Kind.MAPPING:
        if isinstance(node, yaml.MappingNode):
            return validate_mapping(node, spec, path, problems, ranges, node_range(node))
        if _scalar(node) is None and isinstance(node, yaml.ScalarNode):
            return {}
        problems.append(_wrong(dotted, spec, node, "a mapping of keys", where))
        return _INVALID
    if spec.kind is Kind.MODULES and isinstance(node, yaml.SequenceNode):
        items = [_scalar(item) for item in node.value]
        if items and all(isinstance(i, str) and i for i in items):
            return tuple(items)
        problems.append(_wrong(dotted, spec, node, "a non-empty list of module names", where))
        return _INVALID
    if not isinstance(node, yaml.ScalarNode):
        problems.append(_wrong(dotted, spec, node, _expected(spec), where))
        return _INVALID
    value = _scalar(node)
    checked = _check_scalar(value, spec)
    if checked is _INVALID:
        problems.append(_wrong(dotted, spec, node, _expected(spec), where, value))
        return _INVALID
    if dotted == "dlm_id" and not _ULID.fullmatch(str(checked)):
        problems.append(
            diagnostic(
                "DLM018",
                f"dlm_id {checked!r} is not a 26-character Crockford base32 ULID (digits and "
                "capitals without I, L, O, U). Run `dlm init` for a fresh one, or keep the "
                "id the document's store was made under.",
                node_range(node),
            )
        )
        return _INVALID
    return checked


def _check_scalar(value: Any, spec: KeySpec) -> Any:
    kind = spec.kind
    if value is None:
        if spec.nullable:
            return None
        return _INVALID
    if kind in (Kind.INT_OR_AUTO, Kind.FLOAT_OR_AUTO, Kind.BOOL_OR_AUTO, Kind.MODULES):
        if value == "auto":
            return None
        kind = {
            Kind.INT_OR_AUTO: Kind.INT,
            Kind.FLOAT_OR_AUTO: Kind.FLOAT,
            Kind.BOOL_OR_AUTO: Kind.BOOL,
            Kind.MODULES: Kind.CHOICE,
        }[kind]
        if spec.kind is Kind.MODULES:
            return _INVALID
    if kind is Kind.STRING:
        return value if isinstance(value, str) and value.strip() else _INVALID
    if kind is Kind.BOOL:
        return value if isinstance(value, bool) else _INVALID
    if kind is Kind.CHOICE:
        return value if value in spec.choices else _INVALID
    if kind is Kind.INT:
        if isinstance(value, bool) or not isinstance(value, int):
            return _INVALID
        return value if _in_range(float(value), spec) else _INVALID
    if kind is Kind.FLOAT:
        # YAML 1.1 wants a dot in floats; `1e-4` is a number to anyone writing one.
        if isinstance(value, str) and _EXPONENT_FLOAT.fullmatch(value):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _INVALID
        number = float(value)
        return number if math.isfinite(number) and _in_range(number, spec) else _INVALID
    return _INVALID


def _in_range(number: float, spec: KeySpec) -> bool:
    low = spec.minimum
    if low is not None and (number < low or (spec.exclusive_minimum and number == low)):
        return False
    return spec.maximum is None or number <= spec.maximum


def _expected(spec: KeySpec) -> str:
    text = spec.kind.value
    if spec.kind is Kind.CHOICE:
        text = "one of " + ", ".join(spec.choices)
    bounds = []
    if spec.minimum is not None:
        bounds.append(f"{'>' if spec.exclusive_minimum else '>='} {spec.minimum:g}")
    if spec.maximum is not None:
        bounds.append(f"<= {spec.maximum:g}")
    if bounds:
        text += " " + " and ".join(bounds)
    return text


def _wrong(
    dotted: str, spec: KeySpec, node: yaml.Node, expected: str, where: Range, value: Any = None
) -> Diagnostic:
    default = "" if spec.default is None else f" (default: {spec.default})"
    if isinstance(node, yaml.ScalarNode) and (value is None or value == ""):
        found = "it is empty"
    elif isinstance(node, yaml.ScalarNode):
        found = f"not {value!r}"
    else:
        found = "not a " + ("list" if isinstance(node, yaml.SequenceNode) else "mapping")
    return diagnostic(
        "DLM017", f"`{dotted}` must be {expected}{default}; {found}. {spec.doc}", where
    )


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        return node
    return _construct(node)


_EXPONENT_FLOAT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+")


_CONSTRUCTOR = yaml.SafeLoader("")


def _construct(node: yaml.ScalarNode) -> Any:
    try:
        return _CONSTRUCTOR.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError):
        return node.value


def node_range(node: yaml.Node) -> Range:
    start, end = node.start_mark, node.end_mark
    if start is None or end is None:
        return Range.on_line(0, 0, 3)
    # YAML line 0 is file line 1 (after the opening `---`).
    return Range.of(start.line + 1, start.column, end.line + 1, end.column)
