"""Exporting an adapter version: merged into the base model, as a checkpoint or a GGUF."""

from trainer.export.record import read_exports, record_export
from trainer.export.run import default_out, export_adapter
from trainer.export.types import DEFAULT_QUANT, FORMATS, QUANTS, ExportRequest, ExportResult

__all__ = [
    "DEFAULT_QUANT",
    "FORMATS",
    "QUANTS",
    "ExportRequest",
    "ExportResult",
    "default_out",
    "export_adapter",
    "read_exports",
    "record_export",
]
