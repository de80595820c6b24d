"""A merged checkpoint to GGUF with llama.cpp's own tools: convert to f16, then quantize."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from trainer.errors import ExportError
from trainer.export.toolenv import LlamaCppTools

# llama.cpp's `llama_ftype` names, looked up in llama_cpp at run time.
FTYPES = {"q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0", "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M"}
CONVERT_TIMEOUT_S = 60 * 60

_QUANTIZE = """
import ctypes, sys, llama_cpp
params = llama_cpp.llama_model_quantize_default_params()
params.ftype = getattr(llama_cpp, sys.argv[3])
params.nthread = 0
sys.exit(llama_cpp.llama_model_quantize(
    sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(params)))
"""


def convert_to_f16(tools: LlamaCppTools, merged: Path, out_file: Path, log: Path) -> None:
    """`convert_hf_to_gguf.py` on the merged checkpoint, writing an f16 GGUF."""
    env = {**os.environ, "PYTHONPATH": _path_with(tools.converter_site)}
    env.pop("NO_LOCAL_GGUF", None)  # the converter uses the gguf-py it ships with
    argv = [sys.executable, str(tools.converter), str(merged), "--outtype", "f16"]
    _run([*argv, "--outfile", str(out_file)], log, env, "llama.cpp's converter")


def quantize(tools: LlamaCppTools, f16_file: Path, out_file: Path, quant: str, log: Path) -> None:
    """llama.cpp's quantizer (`llama_model_quantize`) from the f16 GGUF to `quant`."""
    argv = [str(tools.python), "-c", _QUANTIZE, str(f16_file), str(out_file), FTYPES[quant]]
    _run(argv, log, dict(os.environ), "llama.cpp's quantizer")


def _path_with(directory: Path) -> str:
    existing = os.environ.get("PYTHONPATH")
    return f"{directory}{os.pathsep}{existing}" if existing else str(directory)


def _run(argv: list[str], log: Path, env: dict[str, str], what: str) -> None:
    """Run a tool with its output in `log`; ExportError with the log's tail if it fails."""
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(argv[:3])} ...\n")
        out.flush()
        done = subprocess.run(
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=CONVERT_TIMEOUT_S
        )
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
        raise ExportError(
            f"{what} failed with exit code {done.returncode} (log: {log}). A model "
            "architecture or tokenizer llama.cpp does not know cannot become a GGUF; export "
            f"`--format merged` instead.\n{tail}"
        )
