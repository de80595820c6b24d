"""The loop's gate: promote a round's adapter only if held-out answers are not worse.

The gate compares the round's new version with the version it started from, on the
held-out prompts, by one score (`judge`, `reference`, or the preference phase's
held-out `pref-margin`), and must see at least `min_improvement`. Guards keep it from
being won by garbage: answers must still say what the references say (reference F1
may not fall by more than `max_reference_drop`) and stay fluent (the base model's
log-probability per token may not fall by more than `max_fluency_drop`).
"""

from __future__ import annotations

from dataclasses import dataclass

from dlmlang.errors import UsageError
from trainer.evaluation.evaluate import BY_JUDGE, BY_REFERENCE, EvalReport, VersionSummary
from trainer.training.heldout import PreferenceCheck

BY_PREF_MARGIN = "pref-margin"
GATES = (BY_JUDGE, BY_REFERENCE, BY_PREF_MARGIN)
PROMOTED = "promoted"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class GateSettings:
    """What the gate measures, how much better is enough, and the garbage guards."""

    by: str = BY_REFERENCE
    min_improvement: float = 0.0
    guards: bool = True
    max_reference_drop: float = 0.05
    max_fluency_drop: float = 0.5

    def __post_init__(self) -> None:
        if self.by not in GATES:
            raise UsageError(f"--gate takes one of {', '.join(GATES)}, not {self.by!r}.")

    @property
    def eval_score(self) -> str:
        """The eval's main score: the judge's for a judge gate, else the references'."""
        return BY_JUDGE if self.by == BY_JUDGE else BY_REFERENCE


@dataclass(frozen=True, slots=True)
class Verdict:
    """Promoted or rejected, and why, in words a user reads."""

    decision: str
    reasons: tuple[str, ...]

    @property
    def promoted(self) -> bool:
        """Whether the new version stays current."""
        return self.decision == PROMOTED


def judge_round(
    report: EvalReport,
    settings: GateSettings,
    preference: tuple[PreferenceCheck | None, PreferenceCheck | None] = (None, None),
) -> Verdict:
    """The verdict on `report.versions[0]` (new) against `report.versions[1]` (before)."""
    new, old = report.summaries
    problems = [_gate_problem(report, settings, preference)]
    if settings.guards:
        problems += [_reference_problem(new, old, settings), _fluency_problem(new, old, settings)]
    found = tuple(p for p in problems if p is not None)
    if found:
        return Verdict(REJECTED, found)
    return Verdict(PROMOTED, (_gain(report, settings, preference),))


def _gate_problem(
    report: EvalReport,
    settings: GateSettings,
    preference: tuple[PreferenceCheck | None, PreferenceCheck | None],
) -> str | None:
    change = _change(report, settings, preference)
    if change >= settings.min_improvement:
        return None
    return (
        f"{settings.by} changed by {change:+.3f}, less than the required "
        f"{settings.min_improvement:+.3f}: the held-out answers did not get better"
    )


def _change(
    report: EvalReport,
    settings: GateSettings,
    preference: tuple[PreferenceCheck | None, PreferenceCheck | None],
) -> float:
    if settings.by == BY_PREF_MARGIN:
        before, after = preference
        if before is None or after is None:
            raise UsageError(
                "--gate pref-margin needs the preference phase's held-out check, which runs "
                "with 6 or more hand-written pairs; use --gate reference or --gate judge."
            )
        return after.margin - before.margin
    assert report.comparison is not None, "the gate compares two versions"
    return report.comparison.mean_delta


def _reference_problem(
    new: VersionSummary, old: VersionSummary, settings: GateSettings
) -> str | None:
    before, after = old.reference_f1, new.reference_f1
    if before is None or after is None or after >= before - settings.max_reference_drop:
        return None
    return (
        f"reference F1 fell {before:.3f} -> {after:.3f}: the answers no longer say what "
        "the reference answers say"
    )


def _fluency_problem(
    new: VersionSummary, old: VersionSummary, settings: GateSettings
) -> str | None:
    before, after = old.fluency, new.fluency
    if before is None or after is None or after >= before - settings.max_fluency_drop:
        return None
    return (
        f"fluency fell {before:.2f} -> {after:.2f} nats per token under the base model: "
        "the answers read like garbage to a model that never saw the judge"
    )


def _gain(
    report: EvalReport,
    settings: GateSettings,
    preference: tuple[PreferenceCheck | None, PreferenceCheck | None],
) -> str:
    change = _change(report, settings, preference)
    text = f"{settings.by} changed by {change:+.3f} (at least {settings.min_improvement:+.3f})"
    if report.comparison is not None:
        comparison = report.comparison
        text += (
            f"; held-out win rate {comparison.win_rate:.2f} "
            f"[{comparison.low:.2f}, {comparison.high:.2f}]"
        )
    return text
