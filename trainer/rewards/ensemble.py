"""Ensembles: several reward models, each mapped to a common scale, weighted and summed.

`normalize="scale"` (default): each member's score goes through its scale's
`to_common` (Bradley-Terry logits: linear scales are divided by their default
threshold, probabilities go through log(p / (1 - p))), then score = sum(weight x
mapped). `normalize="group"`: each member's scores are z-scored within a candidate
group (the conversations that share everything but the answer, i.e. one prompt's
candidates); a group of one, or one where the member gave every candidate the same
score, falls back to the scale mapping. Either way the ensemble's threshold is 1.0.
Members are asked for their raw scores, so a cache in front of a member never holds
a group-dependent number.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from trainer.rewards.base import (
    LOGITS,
    Z_SCORE,
    BaseRM,
    DetailedRM,
    JudgeError,
    MemberScore,
    Messages,
    RewardDetails,
)

Normalize = Literal["scale", "group"]


class EnsembleRM(DetailedRM):
    """`EnsembleRM([(rm, weight), ...], normalize="scale"|"group")`."""

    def __init__(
        self,
        members: Sequence[tuple[BaseRM, float]],
        *,
        normalize: Normalize = "scale",
        name: str | None = None,
    ) -> None:
        if not members:
            raise JudgeError("an ensemble needs at least one member")
        for rm, weight in members:
            if not isinstance(rm, BaseRM):
                raise JudgeError(f"ensemble member {rm!r} is not a BaseRM")
            if isinstance(weight, bool) or not math.isfinite(weight) or weight <= 0:
                raise JudgeError(f"{rm.name}: an ensemble weight must be a positive number.")
        if normalize not in ("scale", "group"):
            raise JudgeError(f"normalize must be scale or group, not {normalize!r}.")
        self.members = [(rm, float(weight)) for rm, weight in members]
        self.normalize: Normalize = normalize
        self.scale = Z_SCORE if normalize == "group" else LOGITS
        self._name = name

    @property
    def name(self) -> str:
        """`ensemble:<file>` when loaded from one, else the members and weights."""
        if self._name:
            return self._name
        parts = ",".join(f"{rm.name}*{weight:g}" for rm, weight in self.members)
        return f"ensemble({parts};{self.normalize})"

    def load(self) -> None:
        """Load every member."""
        for rm, _ in self.members:
            rm.load()

    def close(self) -> None:
        """Close every member."""
        for rm, _ in self.members:
            rm.close()

    def fingerprint(self) -> dict[str, str]:
        """The members' fingerprints, weights and the normalisation."""
        members = [[rm.fingerprint(), weight] for rm, weight in self.members]
        return {
            "selector": self.name,
            "normalize": self.normalize,
            "members": json.dumps(members, sort_keys=True),
        }

    def map_members(self, wrap: Callable[[BaseRM], BaseRM]) -> EnsembleRM:
        """The same ensemble with every member wrapped (e.g. in a cache)."""
        members = [(wrap(rm), weight) for rm, weight in self.members]
        return EnsembleRM(members, normalize=self.normalize, name=self._name)

    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        per_member = [
            rm.score_batch_details(batch, batch_size=batch_size) for rm, _ in self.members
        ]
        groups = _groups(batch) if self.normalize == "group" else []
        mapped = [
            self._mapped(rm, [d.score for d in details], groups)
            for (rm, _), details in zip(self.members, per_member, strict=True)
        ]
        results = []
        for i in range(len(batch)):
            parts = tuple(
                MemberScore(rm.name, weight, per_member[m][i].score, mapped[m][i])
                for m, (rm, weight) in enumerate(self.members)
            )
            total = sum(p.weight * p.common for p in parts)
            results.append(
                RewardDetails(
                    score=total,
                    normalized_score=total,
                    members=parts,
                    cache_hits=sum(d[i].cache_hits for d in per_member),
                    cache_misses=sum(d[i].cache_misses for d in per_member),
                )
            )
        return results

    def _mapped(self, rm: BaseRM, raw: list[float], groups: list[list[int]]) -> list[float]:
        mapped = [rm.scale.to_common(score) for score in raw]
        for group in groups:
            values = [raw[i] for i in group]
            mean = sum(values) / len(values)
            std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
            if len(group) < 2 or std == 0.0:
                continue  # nothing to standardise against: keep the scale mapping
            for i in group:
                mapped[i] = (raw[i] - mean) / std
        return mapped


def load_ensemble(path: Path, make_member: Callable[[str], BaseRM]) -> EnsembleRM:
    """An ensemble from a YAML file: `normalize` and `members: [{judge, weight}]`."""
    spec = _read_spec(path)
    members = []
    for number, entry in enumerate(spec["members"], 1):
        weight = entry.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise JudgeError(f"ensemble:{path}: member {number}'s weight must be a number.")
        members.append((make_member(entry["judge"]), float(weight)))
    normalize = spec.get("normalize", "scale")
    return EnsembleRM(members, normalize=normalize, name=f"ensemble:{path}")


def member_selectors(path: Path) -> list[str]:
    """The `judge:` selectors of an ensemble file, in order."""
    return [str(entry["judge"]) for entry in _read_spec(path)["members"]]


def _read_spec(path: Path) -> dict[str, Any]:
    import yaml

    try:
        spec: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise JudgeError(f"ensemble:{path}: cannot read it ({error}).") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("members"), list):
        raise JudgeError(
            f"ensemble:{path}: expected a mapping with `members:`, a list of "
            "`{judge: <selector>, weight: <number>}`."
        )
    unknown = sorted(set(spec) - {"members", "normalize"})
    if unknown:
        raise JudgeError(f"ensemble:{path}: unknown keys {', '.join(unknown)}.")
    for number, entry in enumerate(spec["members"], 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("judge"), str):
            raise JudgeError(f"ensemble:{path}: member {number} needs `judge: <selector>`.")
    return spec


def _groups(batch: Sequence[Messages]) -> list[list[int]]:
    """Indices of conversations sharing everything but the answer, in first-seen order."""
    groups: dict[str, list[int]] = {}
    for i, messages in enumerate(batch):
        key = json.dumps([dict(m) for m in messages[:-1]], sort_keys=True)
        groups.setdefault(key, []).append(i)
    return list(groups.values())
