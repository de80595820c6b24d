"""The auto-mined provenance marker: its fields, checks and text form.

Documented in docs/format.md, "The auto-mined marker".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from dlmlang.diagnostics import Diagnostic, Fix, diagnostic
from dlmlang.positions import Range
from dlmlang.suggest import closest, did_you_mean

ATTRIBUTES = (
    "judge_name",
    "judge_score_chosen",
    "judge_score_rejected",
    "mined_at",
    "mined_run_id",
)
MARKER_PREFIX = "<!-- dlm-auto-mined:"

_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_RUN_ID = re.compile(r"[0-9]+")
_ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_ENCODE = {"&": "&amp;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;"}
_DECODE = re.compile(r"&(?:amp|quot|#10|#13);")
_DECODED = {"&amp;": "&", "&quot;": '"', "&#10;": "\n", "&#13;": "\r"}


@dataclass(frozen=True, slots=True)
class Marker:
    """Provenance of a mined preference section. `mined_at` is UTC, whole seconds."""

    judge_name: str
    judge_score_chosen: float
    judge_score_rejected: float
    mined_at: datetime
    mined_run_id: int

    def __post_init__(self) -> None:
        if self.mined_at.tzinfo is None:
            raise ValueError("mined_at needs a time zone")
        normal = self.mined_at.astimezone(UTC).replace(microsecond=0)
        object.__setattr__(self, "mined_at", normal)
        for score in (self.judge_score_chosen, self.judge_score_rejected):
            if not math.isfinite(score):
                raise ValueError("judge scores must be finite")
        if self.mined_run_id < 1:
            raise ValueError("mined_run_id must be >= 1")

    @property
    def margin(self) -> float:
        """Chosen minus rejected score."""
        return self.judge_score_chosen - self.judge_score_rejected


@dataclass(frozen=True, slots=True)
class MarkerAttribute:
    """One `name="value"` pair as written, with the range it covers."""

    name: str
    value: str
    range: Range


def render_marker(marker: Marker) -> str:
    """The marker line (without line ending) that reads back as `marker`."""
    name = "".join(_ENCODE.get(ch, ch) for ch in marker.judge_name)
    stamp = marker.mined_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'{MARKER_PREFIX} judge_name="{name}" '
        f'judge_score_chosen="{marker.judge_score_chosen!r}" '
        f'judge_score_rejected="{marker.judge_score_rejected!r}" '
        f'mined_at="{stamp}" mined_run_id="{marker.mined_run_id}" -->'
    )


def check_marker(
    attributes: list[MarkerAttribute], line_range: Range
) -> tuple[Marker | None, list[Diagnostic]]:
    """Validate well-formed marker attributes. Returns the marker when all are valid."""
    values, ranges, problems = read_attributes(attributes, ATTRIBUTES, "auto-mined", line_range)
    chosen = _score(values, ranges, "judge_score_chosen", problems)
    rejected = _score(values, ranges, "judge_score_rejected", problems)
    mined_at = _timestamp(values, ranges, problems)
    run_id = _run_id(values, ranges, problems)
    if chosen is not None and rejected is not None and chosen < rejected:
        problems.append(
            diagnostic(
                "DLM069",
                f"judge_score_chosen ({chosen!r}) is lower than judge_score_rejected "
                f"({rejected!r}): the judge preferred the rejected answer. Swap the answers "
                "or drop the pair.",
                ranges["judge_score_chosen"],
            )
        )
    if problems and any(p.severity.value == "error" for p in problems):
        return None, problems
    assert chosen is not None and rejected is not None and mined_at is not None
    assert run_id is not None
    name = _DECODE.sub(lambda m: _DECODED[m.group(0)], values["judge_name"])
    return Marker(name, chosen, rejected, mined_at, run_id), problems


def valid_marker(pairs: list[tuple[str, str]]) -> Marker | None:
    """The marker of (name, value) pairs when `check_marker` finds nothing wrong with
    them, else None (and `check_marker` says what): the common case, without ranges."""
    values = dict(pairs)
    if len(values) != len(pairs) or len(values) != len(ATTRIBUTES):
        return None
    try:
        chosen_text = values["judge_score_chosen"]
        rejected_text = values["judge_score_rejected"]
        mined_at_text = values["mined_at"]
        run_id_text = values["mined_run_id"]
        name = values["judge_name"]
    except KeyError:
        return None
    if not (
        _FLOAT.fullmatch(chosen_text)
        and _FLOAT.fullmatch(rejected_text)
        and _ISO_DATETIME.fullmatch(mined_at_text)
        and _RUN_ID.fullmatch(run_id_text)
    ):
        return None
    chosen, rejected, run_id = float(chosen_text), float(rejected_text), int(run_id_text)
    if not (math.isfinite(chosen) and math.isfinite(rejected)) or chosen < rejected or run_id < 1:
        return None
    try:
        mined_at = datetime.fromisoformat(mined_at_text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if "&" in name:
        name = _DECODE.sub(lambda m: _DECODED[m.group(0)], name)
    return Marker(name, chosen, rejected, mined_at, run_id)


def read_attributes(
    attributes: list[MarkerAttribute], names: tuple[str, ...], what: str, line_range: Range
) -> tuple[dict[str, str], dict[str, Range], list[Diagnostic]]:
    """The values and ranges of a marker's attributes, every marker kind alike: DLM061 for
    a repeated one, DLM062 for an unknown one (with a rename fix when one name is close
    and not given), DLM063 for the missing ones."""
    problems: list[Diagnostic] = []
    values: dict[str, str] = {}
    ranges: dict[str, Range] = {}
    given = {attribute.name for attribute in attributes}
    for attribute in attributes:
        if attribute.name in values:
            problems.append(
                diagnostic(
                    "DLM061",
                    f"Marker attribute `{attribute.name}` is given twice; keep one.",
                    attribute.range,
                )
            )
        elif attribute.name not in names:
            match = closest(attribute.name, names)
            fixes = (
                (_rewrite(match, attribute.value, attribute.range, f"Rename to `{match}`"),)
                if match is not None and match not in given
                else ()
            )
            problems.append(
                diagnostic(
                    "DLM062",
                    f"Unknown {what} marker attribute `{attribute.name}`."
                    f"{did_you_mean(attribute.name, names)} "
                    f"The marker takes {', '.join(names)}.",
                    attribute.range,
                    *fixes,
                )
            )
        else:
            values[attribute.name] = attribute.value
            ranges[attribute.name] = attribute.range
    missing = [name for name in names if name not in values]
    if missing:
        problems.append(
            diagnostic(
                "DLM063",
                f"The {what} marker needs {', '.join(names)}; missing: {', '.join(missing)}.",
                line_range,
            )
        )
    return values, ranges, problems


def _score(
    values: dict[str, str], ranges: dict[str, Range], name: str, problems: list[Diagnostic]
) -> float | None:
    if name not in values:
        return None
    text = values[name]
    if _FLOAT.fullmatch(text):
        number = float(text)
        if math.isfinite(number):
            return number
    repaired = text.strip().replace(",", ".")
    fixes: tuple[Fix, ...] = ()
    if repaired != text and _FLOAT.fullmatch(repaired) and math.isfinite(float(repaired)):
        fixes = (_rewrite(name, repaired, ranges[name], f'Write "{repaired}"'),)
    problems.append(
        diagnostic(
            "DLM064",
            f'{name}="{text}" is not a finite number; write a decimal like "0.82".',
            ranges[name],
            *fixes,
        )
    )
    return None


def _timestamp(
    values: dict[str, str], ranges: dict[str, Range], problems: list[Diagnostic]
) -> datetime | None:
    if "mined_at" not in values:
        return None
    text = values["mined_at"]
    if _ISO_DATETIME.fullmatch(text):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
    repaired = _completed_timestamp(text)
    fixes = (_rewrite("mined_at", repaired, ranges["mined_at"], f'Write "{repaired}"'),)
    problems.append(
        diagnostic(
            "DLM065",
            f'mined_at="{text}" is not an ISO-8601 date-time with a time and a UTC offset; '
            'write it like "2026-04-23T18:42:11Z".',
            ranges["mined_at"],
            *(fixes if repaired else ()),
        )
    )
    return None


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAIVE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?")


def _completed_timestamp(text: str) -> str:
    """The one obvious repair of a mined_at: a date alone gets midnight UTC, a date-time
    without an offset (or with a space for `T`) gets `Z`; "" when there is none."""
    stripped = text.strip()
    if _DATE.fullmatch(stripped):
        candidate = f"{stripped}T00:00:00Z"
    elif _NAIVE.fullmatch(stripped):
        candidate = stripped.replace(" ", "T") + "Z"
    else:
        return ""
    try:
        datetime.fromisoformat(candidate.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return candidate if _ISO_DATETIME.fullmatch(candidate) else ""


def _rewrite(name: str, value: str, where: Range, title: str) -> Fix:
    """A fix that rewrites one attribute as `name="value"`."""
    return Fix(title, where, f'{name}="{value}"')


def _run_id(
    values: dict[str, str], ranges: dict[str, Range], problems: list[Diagnostic]
) -> int | None:
    if "mined_run_id" not in values:
        return None
    text = values["mined_run_id"]
    if _RUN_ID.fullmatch(text) and int(text) >= 1:
        return int(text)
    whole = re.fullmatch(r"\s*#?0*([1-9][0-9]*)(?:\.0+)?\s*", text)
    fixes = (
        (
            _rewrite(
                "mined_run_id", whole.group(1), ranges["mined_run_id"], f'Write "{whole.group(1)}"'
            ),
        )
        if whole is not None
        else ()
    )
    problems.append(
        diagnostic(
            "DLM066",
            f'mined_run_id="{text}" must be a whole number >= 1: the id of the training run '
            "whose adapter sampled the pair.",
            ranges["mined_run_id"],
            *fixes,
        )
    )
    return None
