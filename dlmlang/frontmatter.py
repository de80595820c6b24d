"""The YAML frontmatter: finding it, reading it with positions, validating it.

The keys are documented in docs/format.md, "Frontmatter".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from dlmlang.diagnostics import Diagnostic, diagnostic
from dlmlang.frontmatter_rules import node_range, validate_mapping
from dlmlang.positions import Range
from dlmlang.schema import FRONTMATTER, SUPPORTED_VERSION

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
    heldout: float = 0.0
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
                node_range(root),
            )
        )
        return Frontmatter(dlm_id="", base_model=""), problems
    ranges: dict[str, Range] = {}
    values = validate_mapping(root, FRONTMATTER, (), problems, ranges, node_range(root))
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
