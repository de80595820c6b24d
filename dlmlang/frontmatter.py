"""The YAML frontmatter: finding it, reading it with positions, validating it.

The keys are documented in docs/format.md, "Frontmatter".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from dlmlang.diagnostics import Diagnostic, Fix, diagnostic
from dlmlang.positions import Range
from dlmlang.schema import FRONTMATTER, SUPPORTED_VERSION, UNSUPPORTED, KeySpec, Kind
from dlmlang.suggest import closest, did_you_mean

_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class PreferenceHyperparams:
    """`training.preference.hyperparams`."""

    beta: float = 0.1
    alpha: float = 0.1
    learning_rate: float | None = None
    num_epochs: int = 1


@dataclass(frozen=True, slots=True)
class PreferenceConfig:
    """`training.preference`; `enabled=None` means auto (on when pairs exist)."""

    enabled: bool | None = None
    method: str = "dpo"
    hyperparams: PreferenceHyperparams = field(default_factory=PreferenceHyperparams)
    loss_type: str = "sigmoid"
    reference: str = "pre_adapter"


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    """`training`; None means "auto" (chosen by dlm from the model and machine)."""

    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] | None = None
    sequence_len: int = 512
    micro_batch_size: int | None = None
    grad_accum: int | None = None
    learning_rate: float | None = None
    num_epochs: int = 3
    max_steps: int | None = None
    lr_scheduler: str = "cosine"
    warmup_ratio: float = 0.1
    precision: str = "auto"
    seed: int = 42
    replay: bool = True
    preference: PreferenceConfig = field(default_factory=PreferenceConfig)


@dataclass(frozen=True, slots=True)
class Frontmatter:
    """The validated frontmatter; values that failed validation keep their defaults."""

    dlm_id: str
    base_model: str
    dlm_version: int = 1
    system_prompt: str | None = None
    training: TrainingConfig = field(default_factory=TrainingConfig)
    key_ranges: dict[str, Range] = field(default_factory=dict, compare=False, repr=False)
    """Where each key written in the file stands, by dotted path ("training.lora_r")."""


@dataclass(frozen=True, slots=True)
class FrontmatterSplit:
    """Where the frontmatter ends and the body starts, in LF-normalised text."""

    yaml_text: str | None
    """The YAML between the delimiters, or None when there is no frontmatter."""
    body_line: int
    """0-based line where the body starts."""
    body_offset: int
    """Offset in the text where the body starts."""
    diagnostics: tuple[Diagnostic, ...]


def split_frontmatter(text: str) -> FrontmatterSplit:
    """Find the `---` delimiters. The body skips one blank line after the closer."""
    first_end = text.find("\n")
    first = text if first_end < 0 else text[:first_end]
    if first != "---":
        return FrontmatterSplit(
            None,
            0,
            0,
            (
                diagnostic(
                    "DLM010",
                    "A .dlm file starts with a `---` line opening the YAML frontmatter; "
                    f"line 1 is {first[:40]!r}. Add `---`, the keys `dlm_id` and `base_model`, "
                    "and a closing `---` (`dlm init` writes one).",
                    Range.on_line(0, 0, len(first)),
                ),
            ),
        )
    line, start = 1, first_end + 1
    while 0 < start <= len(text):
        end = text.find("\n", start)
        current = text[start:] if end < 0 else text[start:end]
        if current == "---":
            yaml_text = text[first_end + 1 : start]
            body_line, body_offset = line + 1, (len(text) if end < 0 else end + 1)
            # One blank line after the closer is layout, not body (as in DLM).
            if text.startswith("\n", body_offset):
                body_line, body_offset = body_line + 1, body_offset + 1
            return FrontmatterSplit(yaml_text, body_line, body_offset, ())
        if end < 0:
            break
        line, start = line + 1, end + 1
    return FrontmatterSplit(
        None,
        line + 1,
        len(text),
        (
            diagnostic(
                "DLM011",
                "The frontmatter opened on line 1 is never closed: add a line `---` after "
                "the last YAML key.",
                Range.on_line(0, 0, 3),
            ),
        ),
    )


def read_frontmatter(yaml_text: str) -> tuple[Frontmatter, list[Diagnostic]]:
    """Parse and validate the YAML (which starts on file line 1). Never raises."""
    problems: list[Diagnostic] = []
    try:
        root = yaml.compose(yaml_text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        if error.context_mark is not None and mark is not None and mark.index >= len(yaml_text):
            # Nothing is wrong at the end itself: point where the open construct began.
            mark = error.context_mark
        line, column = (mark.line + 1, mark.column) if mark else (1, 0)
        problem = (error.problem or error.context or "syntax error").strip()
        problems.append(
            diagnostic(
                "DLM012",
                f"Frontmatter YAML does not parse: {problem}. Fix the YAML syntax here.",
                Range.on_line(line, column, column + 1),
            )
        )
        return Frontmatter(dlm_id="", base_model=""), problems
    except yaml.YAMLError as error:
        problems.append(
            diagnostic(
                "DLM012", f"Frontmatter YAML does not parse: {error}.", Range.on_line(1, 0, 1)
            )
        )
        return Frontmatter(dlm_id="", base_model=""), problems
    if root is None:
        root = yaml.MappingNode("tag:yaml.org,2002:map", [])
    if not isinstance(root, yaml.MappingNode):
        problems.append(
            diagnostic(
                "DLM013",
                "The frontmatter must be a YAML mapping of keys (`dlm_id: ...`, "
                "`base_model: ...`), not a list or a single value.",
                _node_range(root),
            )
        )
        return Frontmatter(dlm_id="", base_model=""), problems
    ranges: dict[str, Range] = {}
    values = _validate_mapping(root, FRONTMATTER, (), problems, ranges, _node_range(root))
    return _build(values, ranges, problems), problems


def _build(
    values: dict[str, Any], ranges: dict[str, Range], problems: list[Diagnostic]
) -> Frontmatter:
    training = values.get("training") or {}
    preference = training.get("preference") or {}
    hyper = preference.get("hyperparams") or {}
    version = values.get("dlm_version", 1)
    if version > SUPPORTED_VERSION:
        problems.append(
            diagnostic(
                "DLM019",
                f"dlm_version {version} is newer than this dlm supports (up to "
                f"{SUPPORTED_VERSION}). Upgrade dlm, or set `dlm_version: {SUPPORTED_VERSION}`.",
                ranges["dlm_version"],
            )
        )
    return Frontmatter(
        dlm_id=values.get("dlm_id", ""),
        base_model=values.get("base_model", ""),
        dlm_version=version,
        system_prompt=values.get("system_prompt"),
        training=TrainingConfig(
            **{k: v for k, v in training.items() if k != "preference"},
            preference=PreferenceConfig(
                **{k: v for k, v in preference.items() if k != "hyperparams"},
                hyperparams=PreferenceHyperparams(**hyper),
            ),
        ),
        key_ranges=ranges,
    )


def _validate_mapping(
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
        key_range = _node_range(key_node)
        if not isinstance(key, str):
            problems.append(diagnostic("DLM015", "Frontmatter keys are plain names.", key_range))
            continue
        dotted = ".".join((*path, key))
        line_range = Range(key_range.start, _node_range(value_node).end)
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
    where = _node_range(node)
    if where.start == where.end:
        where = key_range  # an empty value: point at its key
    if spec.kind is Kind.MAPPING:
        if isinstance(node, yaml.MappingNode):
            return _validate_mapping(node, spec, path, problems, ranges, _node_range(node))
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
                _node_range(node),
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


def _node_range(node: yaml.Node) -> Range:
    start, end = node.start_mark, node.end_mark
    if start is None or end is None:
        return Range.on_line(0, 0, 3)
    # YAML line 0 is file line 1 (after the opening `---`).
    return Range.of(start.line + 1, start.column, end.line + 1, end.column)
