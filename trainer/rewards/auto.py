"""`AutoRM.load`: one entry point from a model name to a ready `BaseRM`.

`load_method="transformers"` (default) picks an outcome or a process model from the
profile registry and the checkpoint's config; `"vllm"` serves it through vLLM's
pooling API (CUDA only); `"api"` is an LLM judge behind an OpenAI-compatible
endpoint. Options not meant for the chosen method are refused by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

from trainer.rewards.base import BaseRM, JudgeError
from trainer.rewards.checkpoint import LoadOptions, locate
from trainer.rewards.profiles import PROFILES, Kind, Profile, resolve_profile

LoadMethod = Literal["transformers", "vllm", "api"]

_TRANSFORMERS_OPTIONS = ("device", "torch_dtype", "max_length", "trust_remote_code", "input_mode")
_PROCESS_OPTIONS = ("aggregation", "step_delimiter")
_VLLM_OPTIONS = (
    "tensor_parallel_size",
    "gpu_memory_utilization",
    "max_length",
    "torch_dtype",
    "trust_remote_code",
)


class AutoRM:
    """Loads reward models by name; see `load`."""

    @staticmethod
    def load(name_or_path: str, load_method: LoadMethod = "transformers", **options: Any) -> BaseRM:
        """A loaded reward model: `build` with the same arguments, then `load()` at once.

        `kind` forces "outcome" or "process"; `home`, `profiles` and `selector` as in
        `build`; every other option goes to the loader (`device`, `torch_dtype`, ...).
        """
        rm = AutoRM.build(name_or_path, load_method, **options)
        rm.load()
        return rm

    @staticmethod
    def build(
        name_or_path: str,
        load_method: LoadMethod = "transformers",
        *,
        kind: Kind | None = None,
        home: Path | None = None,
        profiles: tuple[Profile, ...] = PROFILES,
        selector: str | None = None,
        **opts: Any,
    ) -> BaseRM:
        """Like `load`, but the model loads later (on `load()` or first use)."""
        if load_method == "transformers":
            rm = _transformers(name_or_path, kind, home, profiles, selector, opts)
        elif load_method == "vllm":
            from trainer.rewards.vllm import VllmRM

            _check(opts, _VLLM_OPTIONS + _PROCESS_OPTIONS, "vllm")
            rm = VllmRM(name_or_path, home=home, kind=kind, profiles=profiles, **opts)
        elif load_method == "api":
            rm = _api(name_or_path, opts)
        else:
            raise JudgeError(f"Unknown load_method {load_method!r}; use transformers, vllm or api.")
        return rm


def split_selector(text: str) -> tuple[str, dict[str, str]]:
    """`model?key=value&...` -> (model, options); values are URL-decoded (`%0A` is a newline)."""
    reference, _, query = text.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    options = dict(pairs)
    if len(options) != len(pairs):
        raise JudgeError(f"{text!r}: an option is given twice.")
    return reference, options


def loader_options(options: Mapping[str, Any]) -> LoadOptions:
    """`LoadOptions` from selector or keyword options (strings are converted)."""
    values: dict[str, Any] = {}
    for key in ("device", "torch_dtype", "input_mode"):
        if key in options:
            values[key] = str(options[key])
    if "dtype" in options:
        values["torch_dtype"] = str(options["dtype"])
    if "max_length" in options:
        values["max_length"] = _integer("max_length", options["max_length"])
    if "trust_remote_code" in options:
        values["trust_remote_code"] = _flag("trust_remote_code", options["trust_remote_code"])
    if values.get("input_mode") not in (None, "chat", "pair"):
        raise JudgeError("input_mode must be chat or pair.")
    return LoadOptions(**values)


def _transformers(
    reference: str,
    kind: Kind | None,
    home: Path | None,
    profiles: tuple[Profile, ...],
    selector: str | None,
    opts: Mapping[str, Any],
) -> BaseRM:
    from trainer.rewards.outcome import OutcomeRM
    from trainer.rewards.process import ProcessRM, process_options

    _check(opts, (*_TRANSFORMERS_OPTIONS, *_PROCESS_OPTIONS, "dtype"), "transformers")
    options = loader_options(opts)
    if kind is None:
        kind = resolve_profile(reference, locate(reference, home), profiles=profiles).kind
    if kind == "outcome":
        _check(opts, (*_TRANSFORMERS_OPTIONS, "dtype"), "an outcome reward model")
        return OutcomeRM(
            reference, options=options, home=home, selector=selector, profiles=profiles
        )
    aggregation, delimiter = process_options(opts)
    return ProcessRM(
        reference,
        options=options,
        home=home,
        selector=selector,
        profiles=profiles,
        aggregation=aggregation,
        step_delimiter=delimiter,
    )


def _api(model: str, opts: Mapping[str, Any]) -> BaseRM:
    """The LLM judge of `trainer.rewards.llm_judge` (an OpenAI-compatible endpoint)."""
    import importlib

    module = importlib.import_module("trainer.rewards.llm_judge")
    factory = getattr(module, "load_api_rm", None) or getattr(module, "LLMJudgeRM", None)
    if factory is None:
        raise JudgeError("load_method='api' is not available in this build of dlm.")
    rm = factory(model, **opts)
    if not isinstance(rm, BaseRM):
        raise JudgeError("load_method='api' did not give a reward model.")
    return rm


def _check(opts: Mapping[str, Any], known: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(opts) - set(known))
    if unknown:
        raise JudgeError(
            f"Options {', '.join(unknown)} do not apply to {what}; "
            f"it takes {', '.join(sorted(set(known)))}."
        )


def _integer(key: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise JudgeError(f"{key} must be a whole number, not {value!r}.") from None


def _flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "yes"):
        return True
    if str(value).lower() in ("0", "false", "no", ""):
        return False
    raise JudgeError(f"{key} must be 1 or 0, not {value!r}.")
