"""A local transformers reward-model checkpoint: located, loaded, and fed conversations.

Shared by the outcome and process models. The input is the tokenizer's chat template
over the conversation (tokenized without special tokens, so the template's own BOS
is the only one; a BOS is prepended only when the template has none and the
tokenizer normally adds one), or, for cross-encoders and tokenizers without a
template, the text pair (conversation before the answer, answer) with only the
answer truncated. Nothing is downloaded; remote code runs only on opt-in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.rewards.base import JudgeError, Messages, split_answer
from trainer.rewards.profiles import InputMode, Profile, read_config
from trainer.runtime.devices import current_device

DEFAULT_MAX_LENGTH = 1024
_DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """Loader options of `AutoRM.load(..., load_method="transformers")`."""

    device: str | None = None
    """None: the device dlm chose for this process (trainer/runtime/devices.py)."""
    torch_dtype: str = "auto"
    """`auto` (the checkpoint's), `float32`, `bfloat16` or `float16`."""
    max_length: int = DEFAULT_MAX_LENGTH
    trust_remote_code: bool = False
    input_mode: InputMode | None = None
    """Overrides the profile and the tokenizer: `chat` or `pair`."""

    def __post_init__(self) -> None:
        if self.torch_dtype not in _DTYPES:
            raise JudgeError(f"torch_dtype must be one of {', '.join(_DTYPES)}.")
        if self.max_length < 8:
            raise JudgeError("max_length must be at least 8 tokens.")


@dataclass(frozen=True, slots=True)
class Encoded:
    """A batch ready for the model, with what the details report."""

    inputs: Any  # BatchEncoding on the model's device
    lengths: list[int]  # tokens read per row
    truncated: list[bool]
    offsets: Any = None  # (rows, tokens, 2) character offsets, when asked for


def locate(reference: str, home: Path | None) -> Path:
    """The checkpoint directory: a local path, else the local HF cache (never downloads)."""
    candidate = Path(reference).expanduser()
    if candidate.is_dir():
        return candidate
    from trainer.models.resolve import resolve_base_model
    from trainer.store import dlm_home

    return resolve_base_model(f"hf:{reference}", home or dlm_home()).path


class Renderer:
    """Conversations -> model input text for one tokenizer and profile (no model needed)."""

    def __init__(
        self, reference: str, path: Path, profile: Profile, options: LoadOptions, tokenizer: Any
    ) -> None:
        self.reference = reference
        self.path = path
        self.profile = profile
        self.options = options
        self.tokenizer = tokenizer
        has_template = bool(getattr(tokenizer, "chat_template", None))
        self.input_mode: InputMode = (
            options.input_mode or profile.input_mode or ("chat" if has_template else "pair")
        )
        if self.input_mode == "chat" and not has_template:
            raise JudgeError(f"{reference}: input_mode=chat, but the tokenizer has no template.")
        bos = tokenizer.bos_token_id
        probe = tokenizer("a")["input_ids"] if bos is not None else []
        self._adds_bos = bool(probe) and probe[0] == bos
        self.score_token_id = _score_token_id(reference, path, profile)
        if self.score_token_id is not None and self.input_mode != "chat":
            raise JudgeError(f"{reference} reads its score at a token after a chat: use chat mode.")

    def render(self, messages: Messages) -> tuple[str, str | None]:
        """(templated text, None) in chat mode; (context, answer) in pair mode."""
        context, answer = split_answer(messages)
        if self.input_mode == "pair":
            return "\n\n".join(m.get("content", "") for m in context), answer
        if self.profile.system_prompt and not any(m.get("role") == "system" for m in context):
            context = [{"role": "system", "content": self.profile.system_prompt}, *context]
        text = str(
            self.tokenizer.apply_chat_template(
                [*context, {"role": "assistant", "content": answer}], tokenize=False
            )
        )
        bos = self.tokenizer.bos_token
        if self._adds_bos and bos and not text.startswith(bos):
            text = bos + text
        return text, None

    def token_count(self, rendered: tuple[str, str | None]) -> int:
        """Tokens of one rendered input before truncation."""
        text, pair = rendered
        if pair is None:
            extra = 0 if self.score_token_id is None else 1
            return len(self.tokenizer(text, add_special_tokens=False)["input_ids"]) + extra
        return len(self.tokenizer(text, pair)["input_ids"])

    def token_ids(self, rendered: tuple[str, str | None]) -> list[int]:
        """One rendered input as token ids, cut to `max_length` (any score token kept last)."""
        text, pair = rendered
        if pair is not None:
            return list(self.tokenizer(text, pair)["input_ids"])[: self.options.max_length]
        ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        if self.score_token_id is None:
            return ids[: self.options.max_length]
        return [*ids[: self.options.max_length - 1], self.score_token_id]

    def fingerprint(self) -> dict[str, str]:
        """Revision, template and max length: what the input depends on."""
        template = str(getattr(self.tokenizer, "chat_template", None) or "")
        return {
            "revision": _revision(self.path),
            "template": hashlib.sha256(template.encode()).hexdigest()[:16],
            "input_mode": self.input_mode,
            "max_length": str(self.options.max_length),
            "system_prompt": self.profile.system_prompt or "",
        }


def load_tokenizer(reference: str, path: Path, options: LoadOptions) -> Any:
    """The checkpoint's tokenizer, padding on the right (pad = EOS when it has none)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(
            str(path), trust_remote_code=options.trust_remote_code
        )
    except (OSError, ValueError) as error:
        raise JudgeError(f"{reference}: cannot load its tokenizer ({error}).") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    return tokenizer


def check_remote_code(
    reference: str, profile: Profile, options: LoadOptions, *, vllm: bool = False
) -> None:
    """Refuse a model that needs its own code (in transformers, or in vLLM) unless opted in."""
    needs = profile.needs_remote_code
    if vllm and profile.vllm_remote_code is not None:
        needs = profile.vllm_remote_code
    if needs and not options.trust_remote_code:
        raise JudgeError(
            f"{reference} needs its own model code to load, which dlm runs only when you "
            "opt in: add `?trust_remote_code=1` to the selector (or pass "
            "trust_remote_code=True) if you trust that code."
        )


class Checkpoint(Renderer):
    """Tokenizer and model of one reward model, loaded with `LoadOptions`."""

    def __init__(self, reference: str, path: Path, profile: Profile, options: LoadOptions):
        check_remote_code(reference, profile, options)
        tokenizer = load_tokenizer(reference, path, options)
        super().__init__(reference, path, profile, options, tokenizer)
        self.model = self._load_model()

    def encode(
        self,
        rendered: Sequence[tuple[str, str | None]],
        counts: Sequence[int],
        *,
        offsets: bool = False,
    ) -> Encoded:
        """Tokenize, pad (right) and truncate one micro-batch; `counts` from `token_count`."""
        limit = self.options.max_length
        if self.score_token_id is not None:
            rows = [{"input_ids": self.token_ids(r)} for r in rendered]
            inputs = self.tokenizer.pad(rows, padding=True, return_tensors="pt")
        elif rendered[0][1] is None:
            inputs = self.tokenizer(
                [t for t, _ in rendered],
                add_special_tokens=False,  # the template already holds any BOS
                padding=True,
                truncation=True,
                max_length=limit,
                return_offsets_mapping=offsets,
                return_tensors="pt",
            )
        else:
            inputs = self.tokenizer(
                [t for t, _ in rendered],
                [c or "" for _, c in rendered],
                padding=True,
                truncation="only_second",
                max_length=limit,
                return_tensors="pt",
            )
        spans = inputs.pop("offset_mapping", None) if offsets else None
        lengths = inputs["attention_mask"].sum(dim=1).tolist()
        truncated = [c > limit for c in counts]
        return Encoded(inputs.to(self.model.device), lengths, truncated, spans)

    def forward(self, encoded: Encoded) -> Any:
        """The head's logits as float32 on the CPU: (rows, labels) or (rows, tokens, labels)."""
        import torch

        with torch.no_grad():
            output = self.model(**encoded.inputs)
        logits = getattr(output, "logits", None)
        if logits is None:
            logits = output[0] if isinstance(output, tuple | list) else output
        return logits.float().cpu()

    def labels(self) -> int:
        """The head's outputs: the profile's, else config.json's `num_labels`."""
        return self.profile.labels or int(getattr(self.model.config, "num_labels", 0))

    def fingerprint(self) -> dict[str, str]:
        """The renderer's fingerprint and the dtype the model runs in."""
        dtype = str(self.model.dtype).removeprefix("torch.")
        return {**super().fingerprint(), "dtype": dtype}

    def _load_model(self) -> Any:
        import transformers

        classes = {
            "sequence": transformers.AutoModelForSequenceClassification,
            "token": transformers.AutoModelForTokenClassification,
            "auto": transformers.AutoModel,
        }
        try:
            model = classes[self.profile.head].from_pretrained(
                str(self.path),
                trust_remote_code=self.options.trust_remote_code,
                dtype=self.options.torch_dtype,
            )
        except (OSError, ValueError) as error:
            raise JudgeError(
                f"{self.reference}: cannot load it as a reward model ({error})."
            ) from None
        model.config.pad_token_id = self.tokenizer.pad_token_id
        model.to(self.options.device or current_device())
        model.eval()
        return model


def _score_token_id(reference: str, path: Path, profile: Profile) -> int | None:
    """The id of the token the profile's model reads its score at, from config.json."""
    if profile.score_token_key is None:
        return None
    value = read_config(path).get(profile.score_token_key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise JudgeError(
            f"{reference}: config.json has no token id `{profile.score_token_key}`, "
            "which this reward model reads its score at."
        )
    return value


def _revision(path: Path) -> str:
    """The HF-cache snapshot commit, else a hash of config.json and the weight files' stats."""
    resolved = path.resolve()
    if resolved.parent.name == "snapshots":
        return resolved.name
    digest = hashlib.sha256()
    config = resolved / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    for weights in sorted(resolved.glob("*.safetensors")) + sorted(resolved.glob("*.bin")):
        stat = weights.stat()
        digest.update(json.dumps([weights.name, stat.st_size, stat.st_mtime_ns]).encode())
    return digest.hexdigest()[:16]
