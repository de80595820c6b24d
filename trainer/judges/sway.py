"""`sway`: the adapter judging its own candidates against the base model (docs/judges.md).

Score = mean over the candidate's tokens of log p_adapter(token) - log p_base(token),
given the chat-templated prompt: how much the training moved the model toward
this answer, in nats per token. One model, the adapter switched off for the base
pass; candidates go in length-sorted micro-batches. `sway:logprob` is the mean
token log-probability under the adapter alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trainer.generation.logprobs import Encoded, completion_logprobs, length_sorted_batches
from trainer.judges.base import JudgeError, JudgeItem, Judgement
from trainer.rewards.scale import NATS_PER_TOKEN
from trainer.training.rows import chat_messages


class SwayJudge:
    """Scores with the document's own adapter; `logprob=True` gives `sway:logprob`."""

    default_threshold = 0.1
    scale = NATS_PER_TOKEN

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        system_prompt: str | None,
        logprob: bool = False,
        batch_size: int = 8,
    ) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self._system_prompt = system_prompt
        self._logprob = logprob
        self._batch_size = batch_size

    @property
    def name(self) -> str:
        """`sway` or `sway:logprob`."""
        return "sway:logprob" if self._logprob else "sway"

    def load(self) -> None:
        """The ratio needs an adapter that can be switched off."""
        if not self._logprob and not hasattr(self._model, "disable_adapter"):
            raise JudgeError(
                "The sway judge compares the adapter with the base model, but the model has no "
                "adapter loaded. Train first (`dlm train`), or use `--judge sway:logprob`."
            )

    def score(self, items: Sequence[JudgeItem]) -> list[Judgement]:
        """One score per item; candidates are scored in length-sorted batches."""
        encoded = [self._encode(item) for item in items]
        sizes = [len(prompt) + len(candidate) for prompt, candidate in encoded]
        scores: dict[int, float] = {}
        for batch in length_sorted_batches(sizes, self._batch_size):
            adapter = self._mean_logprobs([encoded[i] for i in batch])
            if self._logprob:
                values = adapter
            else:
                with self._model.disable_adapter():
                    base = self._mean_logprobs([encoded[i] for i in batch])
                values = [a - b for a, b in zip(adapter, base, strict=True)]
            scores.update(zip(batch, values, strict=True))
        return [Judgement(scores[i]) for i in range(len(items))]

    def close(self) -> None:
        """The model belongs to the caller."""

    def fingerprint(self) -> dict[str, str]:
        """What the scores depend on: base model, the adapter's weights, template, system prompt."""
        import hashlib

        digest = hashlib.sha256()
        state = self._adapter_state()
        for key in sorted(state):
            digest.update(key.encode())
            digest.update(state[key].detach().float().cpu().numpy().tobytes())
        config = getattr(self._model, "config", None)
        template = str(getattr(self._tokenizer, "chat_template", None) or "")
        return {
            "base_model": str(getattr(config, "_name_or_path", "")),
            "dtype": str(getattr(self._model, "dtype", "")),
            "adapter": digest.hexdigest()[:16] if state else "none",
            "template": hashlib.sha256(template.encode()).hexdigest()[:16],
            "system_prompt": self._system_prompt or "",
        }

    def _adapter_state(self) -> dict[str, Any]:
        if not hasattr(self._model, "peft_config"):
            return {}
        from peft import get_peft_model_state_dict

        return dict(get_peft_model_state_dict(self._model))

    def _encode(self, item: JudgeItem) -> Encoded:
        prompt = self._tokenizer.apply_chat_template(
            chat_messages(item.prompt, self._system_prompt),
            tokenize=False,
            add_generation_prompt=True,
        )
        prompt_ids = list(self._tokenizer(prompt, add_special_tokens=False)["input_ids"])
        candidate_ids = list(self._tokenizer(item.candidate, add_special_tokens=False)["input_ids"])
        if not candidate_ids:
            raise JudgeError("the sway judge cannot score an empty candidate")
        return prompt_ids, candidate_ids

    def _mean_logprobs(self, batch: list[Encoded]) -> list[float]:
        pad = self._tokenizer.pad_token_id or 0
        return [r.mean for r in completion_logprobs(self._model, batch, pad_token_id=pad)]
