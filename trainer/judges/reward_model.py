"""`hf:<model>`: a sequence-classification reward model scores each candidate (spec §8).

Input: the tokenizer's chat template over [user prompt, assistant candidate]
when it has one (without a second BOS), else the text pair (prompt, candidate)
with the candidate truncated. The score is the model's single logit; a model
with another head is refused. Local directory or local HF cache only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from trainer.judges.base import JudgeError, JudgeItem, Judgement

DEFAULT_MAX_LENGTH = 1024


class RewardModelJudge:
    """A judge backed by `AutoModelForSequenceClassification`, loaded in `load()`."""

    default_threshold = 1.0

    def __init__(
        self,
        selector: str,
        *,
        home: Path,
        batch_size: int = 8,
        max_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        reference, _, query = selector.partition("?")
        options = parse_qs(query)
        self._reference = reference
        self._trust_remote_code = options.get("trust_remote_code", ["0"])[0] == "1"
        self._home = home
        self._batch_size = batch_size
        self._max_length = max_length
        self._model: Any = None
        self._tokenizer: Any = None

    @property
    def name(self) -> str:
        """`hf:` and the model, without options."""
        return f"hf:{self._reference}"

    def load(self) -> None:
        """Load the model and check it has exactly one output."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = self._locate()
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(
                str(path), trust_remote_code=self._trust_remote_code
            )
            self._model = AutoModelForSequenceClassification.from_pretrained(
                str(path), trust_remote_code=self._trust_remote_code
            )
        except (OSError, ValueError) as error:
            raise JudgeError(f"{self.name}: cannot load it as a reward model ({error}).") from None
        labels = int(getattr(self._model.config, "num_labels", 0))
        if labels != 1:
            raise JudgeError(
                f"{self.name} has {labels} outputs; a reward model gives one score per answer. "
                "Use a reward model (a sequence-classification model with num_labels=1)."
            )
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        self._model.config.pad_token_id = self._tokenizer.pad_token_id
        self._model.eval()

    def score(self, items: Sequence[JudgeItem]) -> list[Judgement]:
        """One logit per item, in length-sorted batches."""
        import torch

        if self._model is None:
            self.load()
        texts = [self._render(item) for item in items]
        order = sorted(range(len(items)), key=lambda i: len(texts[i][0]) + len(texts[i][1] or ""))
        scores: dict[int, float] = {}
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            encoded = self._encode([texts[i] for i in batch])
            with torch.no_grad():
                logits = self._model(**encoded).logits.float()
            scores.update(zip(batch, logits[:, 0].tolist(), strict=True))
        return [Judgement(scores[i]) for i in range(len(items))]

    def close(self) -> None:
        """Drop the model."""
        self._model = None

    def _locate(self) -> Path:
        from trainer.models.resolve import resolve_base_model

        if Path(self._reference).expanduser().is_dir():
            return Path(self._reference).expanduser()
        return resolve_base_model(f"hf:{self._reference}", self._home).path

    def _render(self, item: JudgeItem) -> tuple[str, str | None]:
        """Chat-templated text, or (prompt, candidate) as a text pair."""
        if getattr(self._tokenizer, "chat_template", None):
            messages = [
                {"role": "user", "content": item.prompt},
                {"role": "assistant", "content": item.candidate},
            ]
            return str(self._tokenizer.apply_chat_template(messages, tokenize=False)), None
        return item.prompt, item.candidate

    def _encode(self, texts: list[tuple[str, str | None]]) -> Any:
        if texts[0][1] is None:
            # The template already holds any BOS; the tokenizer must not add another.
            return self._tokenizer(
                [t for t, _ in texts],
                add_special_tokens=False,
                padding=True,
                truncation=True,
                max_length=self._max_length,
                return_tensors="pt",
            )
        return self._tokenizer(
            [t for t, _ in texts],
            [c for _, c in texts],
            padding=True,
            truncation="only_second",
            max_length=self._max_length,
            return_tensors="pt",
        )
