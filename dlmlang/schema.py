"""The frontmatter keys: types, defaults, ranges and what each means (docs/format.md).

One table serves validation, hover text and completion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """The shape a frontmatter value must have."""

    STRING = "string"
    INT = "integer"
    FLOAT = "number"
    BOOL = "boolean"
    CHOICE = "choice"
    INT_OR_AUTO = "integer or auto"
    BOOL_OR_AUTO = "boolean or auto"
    FLOAT_OR_AUTO = "number or auto"
    MODULES = "auto or a list of module names"
    MAPPING = "mapping"


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One frontmatter key."""

    name: str
    kind: Kind
    default: object
    doc: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    required: bool = False
    nullable: bool = False
    children: tuple[KeySpec, ...] = field(default=())

    def child(self, name: str) -> KeySpec | None:
        """The child key called `name`, if this is a mapping that has it."""
        return next((c for c in self.children if c.name == name), None)


SUPPORTED_VERSION = 15
"""The highest `dlm_version` this dlm reads; `dlm init` writes it."""

_HYPERPARAMS = (
    KeySpec(
        "beta",
        Kind.FLOAT,
        0.1,
        "DPO temperature beta: how far the policy may move from the reference.",
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
    ),
    KeySpec(
        "alpha",
        Kind.FLOAT,
        0.1,
        "ORPO odds-ratio weight (trl's ORPO `beta`).",
        minimum=0.0,
        maximum=1.0,
        exclusive_minimum=True,
    ),
    KeySpec(
        "learning_rate",
        Kind.FLOAT_OR_AUTO,
        "auto",
        "Preference-phase learning rate; `auto` picks the measured default.",
        minimum=0.0,
        exclusive_minimum=True,
        nullable=True,
    ),
    KeySpec("num_epochs", Kind.INT, 1, "Passes over the preference pairs.", minimum=1),
)

_PREFERENCE = (
    KeySpec(
        "enabled",
        Kind.BOOL_OR_AUTO,
        "auto",
        "Run the preference phase; `auto` = when preference sections exist.",
    ),
    KeySpec("method", Kind.CHOICE, "dpo", "Preference method.", choices=("dpo", "orpo")),
    KeySpec(
        "hyperparams", Kind.MAPPING, None, "Preference hyperparameters.", children=_HYPERPARAMS
    ),
    KeySpec("loss_type", Kind.CHOICE, "sigmoid", "DPO loss.", choices=("sigmoid", "hinge", "ipo")),
    KeySpec(
        "reference",
        Kind.CHOICE,
        "pre_adapter",
        "DPO reference model: the adapter before the phase, or the bare base.",
        choices=("pre_adapter", "base"),
    ),
)

_TRAINING = (
    KeySpec("lora_r", Kind.INT, 8, "LoRA rank.", minimum=1, maximum=256),
    KeySpec("lora_alpha", Kind.INT, 16, "LoRA scaling alpha.", minimum=1),
    KeySpec(
        "lora_dropout", Kind.FLOAT, 0.05, "Dropout on the LoRA path.", minimum=0.0, maximum=0.5
    ),
    KeySpec(
        "target_modules",
        Kind.MODULES,
        "auto",
        "Modules that get LoRA; `auto` = every linear layer of attention and MLP.",
    ),
    KeySpec(
        "sequence_len", Kind.INT, 512, "Maximum tokens per training row.", minimum=64, maximum=32768
    ),
    KeySpec(
        "micro_batch_size",
        Kind.INT_OR_AUTO,
        "auto",
        "Rows per forward pass; `auto` = what fits.",
        minimum=1,
    ),
    KeySpec(
        "grad_accum",
        Kind.INT_OR_AUTO,
        "auto",
        "Micro-batches per optimizer step; `auto` picks one.",
        minimum=1,
    ),
    KeySpec(
        "learning_rate",
        Kind.FLOAT_OR_AUTO,
        "auto",
        "SFT learning rate; `auto` picks the measured default.",
        minimum=0.0,
        exclusive_minimum=True,
        nullable=True,
    ),
    KeySpec("num_epochs", Kind.INT, 3, "Passes over the training rows.", minimum=1),
    KeySpec(
        "max_steps",
        Kind.INT,
        None,
        "Stop after this many optimizer steps (overrides epochs).",
        minimum=1,
        nullable=True,
    ),
    KeySpec(
        "lr_scheduler",
        Kind.CHOICE,
        "cosine",
        "Learning-rate schedule.",
        choices=("cosine", "linear", "constant"),
    ),
    KeySpec(
        "warmup_ratio",
        Kind.FLOAT,
        0.1,
        "Fraction of steps spent warming up.",
        minimum=0.0,
        maximum=0.5,
    ),
    KeySpec(
        "precision",
        Kind.CHOICE,
        "auto",
        "Training precision; `auto` = bf16 where the CPU/GPU supports it, else fp32.",
        choices=("auto", "fp32", "bf16", "fp16"),
        nullable=True,
    ),
    KeySpec("seed", Kind.INT, 42, "Random seed; same seed, same run."),
    KeySpec(
        "heldout",
        Kind.FLOAT,
        0.0,
        "Share of Q/A pairs never trained on, kept for `dlm eval`; chosen by question.",
        minimum=0.0,
        maximum=0.5,
    ),
    KeySpec(
        "replay", Kind.BOOL, True, "Mix in sections that have left the document since earlier runs."
    ),
    KeySpec(
        "preference", Kind.MAPPING, None, "The preference (DPO/ORPO) phase.", children=_PREFERENCE
    ),
)

FRONTMATTER = KeySpec(
    "",
    Kind.MAPPING,
    None,
    "The document's frontmatter.",
    children=(
        KeySpec(
            "dlm_id",
            Kind.STRING,
            None,
            "The document's identity: a 26-character ULID minted by `dlm init`; names its store.",
            required=True,
        ),
        KeySpec(
            "dlm_version",
            Kind.INT,
            1,
            f"Format version of the document (this dlm reads up to {SUPPORTED_VERSION}).",
            minimum=1,
        ),
        KeySpec(
            "base_model",
            Kind.STRING,
            None,
            "The model to adapt: a registry name (`smollm2-135m`), a local directory, "
            "or `hf:<org>/<name>`.",
            required=True,
        ),
        KeySpec(
            "system_prompt",
            Kind.STRING,
            None,
            "System prompt for chat rows, sampling and `dlm prompt`.",
            nullable=True,
        ),
        KeySpec("training", Kind.MAPPING, None, "Training settings.", children=_TRAINING),
    ),
)

# Keys DocumentLanguageModel accepts that dlm ignores (a warning, so its files open).
UNSUPPORTED: dict[str, frozenset[str]] = {
    "": frozenset({"export"}),
    "training": frozenset(
        {
            "adapter",
            "optimizer",
            "cpt",
            "gate",
            "cache",
            "audio",
            "adapters",
            "sources",
            "sources_policy",
        }
    ),
}
