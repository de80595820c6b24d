"""The trainer's exceptions: its kinds of `DlmError`, messages that say what to do."""

from __future__ import annotations

from dlmlang.errors import DlmError


class TrainerError(DlmError):
    """A run cannot go on; the message says what happened, why, and what to do."""


class StoreLockedError(TrainerError):
    """Another dlm process holds the document's store."""


class CorruptStoreError(TrainerError):
    """A store file is unreadable or inconsistent."""


class NoAdapterError(TrainerError):
    """The command needs a trained adapter and there is none yet."""


class ModelNotFoundError(TrainerError):
    """The base model cannot be found locally (dlm never downloads)."""


class ToolMissingError(TrainerError):
    """An external tool a command needs (llama.cpp's) is missing or could not be built."""


class ExportError(TrainerError):
    """An export cannot be written as asked (its directory, the converter, the quantizer)."""


class ServeError(TrainerError):
    """A model server cannot be started as asked, or stopped answering (`dlm serve`)."""


class SynthesisError(TrainerError):
    """A teacher gave no usable answer, or a staged synthesis plan cannot be used."""
