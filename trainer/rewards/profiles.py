"""What kind of reward model a checkpoint is: a small profile registry, then its config.

A profile says whether a model is an outcome RM (one score per answer) or a process
RM (one score per step), which head reads it, how its input is built and where its
step scores are read. `resolve_profile` tries the registry first (first match wins,
read top to bottom), then the checkpoint's `config.json` (`architectures`,
`num_labels`); the tokenizer decides the input mode later (chat template if it has
one, else a text pair).
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from trainer.rewards.base import JudgeError

Kind = Literal["outcome", "process"]
Head = Literal["sequence", "token", "auto"]
InputMode = Literal["chat", "pair"]
StepMethod = Literal["prefix", "token"]


@dataclass(frozen=True, slots=True)
class Profile:
    """How to load and read one family of reward models."""

    pattern: str
    """fnmatch pattern over the lower-cased model id or path."""
    kind: Kind
    head: Head
    """`sequence`: AutoModelForSequenceClassification; `token`: ...ForTokenClassification;
    `auto`: AutoModel (remote-code models)."""
    input_mode: InputMode | None = None
    """None: the chat template when the tokenizer has one, else the text pair."""
    step_method: StepMethod | None = None
    """Process RMs: `prefix` scores every prefix with a sequence head; `token` reads a
    token head once per answer, at each step's last token or at `step_tag`."""
    step_tag: str | None = None
    """A token the model expects after every step; scores are read there."""
    positive_label: int = 1
    """With a two-label head, the label whose probability is the score."""
    system_prompt: str | None = None
    """A system message the model was trained with, added when the conversation has none."""
    needs_remote_code: bool = False
    """Whether transformers needs the model's own code (`trust_remote_code`) to load it."""
    vllm_remote_code: bool | None = None
    """The same for vLLM, which implements some such architectures itself (None: as above)."""
    labels: int | None = None
    """Outputs of the head, for remote-code heads whose `num_labels` in config.json is unset."""
    score_token_key: str | None = None
    """A config.json key holding a token id appended to every input: the model reads its
    score there (InternLM2's `reward_token_id`)."""
    note: str = ""


QWEN_MATH_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
"""The system prompt the Qwen2.5-Math reward models were trained with."""

PROFILES: tuple[Profile, ...] = (
    Profile(
        "qwen/qwen2.5-math-prm-*",
        kind="process",
        head="auto",
        input_mode="chat",
        step_method="token",
        step_tag="<extra_0>",
        system_prompt=QWEN_MATH_SYSTEM,
        needs_remote_code=True,
        vllm_remote_code=False,
        labels=2,
        note="Qwen2ForProcessRewardModel: two-label token head read at <extra_0> after each step",
    ),
    Profile(
        "qwen/qwen2*-math-rm-*",
        kind="outcome",
        head="auto",
        input_mode="chat",
        system_prompt=QWEN_MATH_SYSTEM,
        needs_remote_code=True,
        vllm_remote_code=False,
        labels=1,
        note="Qwen2ForRewardModel: one score, read at the last token",
    ),
    Profile(
        "internlm/internlm2-*reward*",
        kind="outcome",
        head="auto",
        input_mode="chat",
        needs_remote_code=True,
        labels=1,
        score_token_key="reward_token_id",
        note="InternLM2ForRewardModel: one score, read at the reward token after the conversation",
    ),
    Profile(
        "openassistant/reward-model-deberta-*",
        kind="outcome",
        head="sequence",
        input_mode="pair",
        note="cross-encoder over (question, answer)",
    ),
    Profile("skywork/skywork-reward-*", kind="outcome", head="sequence", input_mode="chat"),
    Profile("sfairxc/fsfairx-llama3-rm-*", kind="outcome", head="sequence", input_mode="chat"),
)
"""Known reward models, first match wins."""


def resolve_profile(
    reference: str,
    path: Path,
    *,
    kind: Kind | None = None,
    profiles: tuple[Profile, ...] = PROFILES,
) -> Profile:
    """The profile of `reference` (checkpoint at `path`); `kind` forces outcome or process."""
    key = reference.lower()
    found = next((p for p in profiles if fnmatch.fnmatchcase(key, p.pattern)), None)
    if found is None:
        found = profile_from_config(reference, read_config(path))
    if kind is not None and found.kind != kind:
        found = _as_kind(reference, found, kind)
    return found


def profile_from_config(reference: str, config: dict[str, Any]) -> Profile:
    """A profile from `config.json`'s `architectures`; unknown heads are a clear error."""
    architectures = [str(a) for a in config.get("architectures") or []]
    arch = architectures[0] if architectures else ""
    if arch.endswith("ForSequenceClassification"):
        return Profile(reference, kind="outcome", head="sequence")
    if arch.endswith("ForTokenClassification"):
        return Profile(reference, kind="process", head="token", step_method="token")
    if "ProcessReward" in arch or arch.endswith("PRM"):
        return Profile(
            reference, kind="process", head="auto", step_method="token", needs_remote_code=True
        )
    if "RewardModel" in arch:
        key = "reward_token_id" if "reward_token_id" in config else None
        return Profile(
            reference,
            kind="outcome",
            head="auto",
            needs_remote_code=True,
            labels=1,
            score_token_key=key,
        )
    if arch.endswith(("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")):
        raise JudgeError(
            f"{reference} is a language model ({arch}), not a reward model: it has no score "
            "head. Use a sequence-classification reward model, or `--judge sway` to score "
            "with your adapter."
        )
    named = arch or "no `architectures` in config.json"
    raise JudgeError(
        f"{reference}: cannot tell what kind of reward model this is ({named}). Use a "
        "sequence- or token-classification checkpoint, or pass a `Profile` to AutoRM.load."
    )


def _as_kind(reference: str, profile: Profile, kind: Kind) -> Profile:
    if kind == "process" and profile.head == "sequence":
        # An outcome model scores each prefix: a process RM at one forward per step.
        return replace(profile, kind="process", step_method="prefix")
    if kind == "process":
        return replace(profile, kind="process", step_method=profile.step_method or "token")
    raise JudgeError(
        f"{reference} is a process reward model (one score per step); use "
        f"`--judge prm:{reference}` (or AutoRM.load(..., kind='process'))."
    )


def read_config(path: Path) -> dict[str, Any]:
    """The checkpoint's config.json as a dict; unreadable is a JudgeError."""
    try:
        loaded = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise JudgeError(f"{path}: no readable config.json ({error}).") from None
    return loaded if isinstance(loaded, dict) else {}
