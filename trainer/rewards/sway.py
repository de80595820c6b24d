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
from trainer.rewards.base import DetailedRM, JudgeError, Messages, RewardDetails, split_answer
from trainer.rewards.scale import NATS_PER_TOKEN


class SwayRM(DetailedRM):
    """Scores with the document's own adapter; `logprob=True` gives `sway:logprob`."""

    scale = NATS_PER_TOKEN

    def __init__(self, model: Any, tokenizer: Any, *, logprob: bool = False) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self._logprob = logprob

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

    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        """One score per conversation; answers are scored in length-sorted micro-batches."""
        encoded = [self._encode(messages) for messages in batch]
        sizes = [len(prompt) + len(answer) for prompt, answer in encoded]
        scores: dict[int, float] = {}
        for group in length_sorted_batches(sizes, batch_size):
            adapter = self._mean_logprobs([encoded[i] for i in group])
            if self._logprob:
                values = adapter
            else:
                with self._model.disable_adapter():
                    base = self._mean_logprobs([encoded[i] for i in group])
                values = [a - b for a, b in zip(adapter, base, strict=True)]
            scores.update(zip(group, values, strict=True))
        return [
            RewardDetails(
                scores[i], self.scale.to_common(scores[i]), tokens_scored=len(encoded[i][1])
            )
            for i in range(len(batch))
        ]

    def fingerprint(self) -> dict[str, str]:
        """What the scores depend on: base model, the adapter's weights, the chat template."""
        import hashlib

        digest = hashlib.sha256()
        state = self._adapter_state()
        for key in sorted(state):
            digest.update(key.encode())
            digest.update(state[key].detach().float().cpu().numpy().tobytes())
        config = getattr(self._model, "config", None)
        template = str(getattr(self._tokenizer, "chat_template", None) or "")
        return {
            "selector": self.name,
            "scale": self.scale.name,
            "base_model": str(getattr(config, "_name_or_path", "")),
            "dtype": str(getattr(self._model, "dtype", "")),
            "adapter": digest.hexdigest()[:16] if state else "none",
            "template": hashlib.sha256(template.encode()).hexdigest()[:16],
        }

    def _adapter_state(self) -> dict[str, Any]:
        if not hasattr(self._model, "peft_config"):
            return {}
        from peft import get_peft_model_state_dict

        return dict(get_peft_model_state_dict(self._model))

    def _encode(self, messages: Messages) -> Encoded:
        context, answer = split_answer(messages)
        prompt = self._tokenizer.apply_chat_template(
            [dict(m) for m in context], tokenize=False, add_generation_prompt=True
        )
        prompt_ids = list(self._tokenizer(prompt, add_special_tokens=False)["input_ids"])
        answer_ids = list(self._tokenizer(answer, add_special_tokens=False)["input_ids"])
        if not answer_ids:
            raise JudgeError("the sway judge cannot score an empty answer")
        return prompt_ids, answer_ids

    def _mean_logprobs(self, batch: list[Encoded]) -> list[float]:
        pad = self._tokenizer.pad_token_id or 0
        return [r.mean for r in completion_logprobs(self._model, batch, pad_token_id=pad)]
