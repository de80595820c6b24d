"""What the llama.cpp round trips share: the tool env under the tests' cache, and the skip
for a CPU the portable build cannot run on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trainer.errors import ToolMissingError
from trainer.export.toolenv import CPU_FLAGS, LlamaCppTools, ensure_tools, missing_cpu_flags

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlm-tests"
"""The test suite's cache, where tests/rewards/test_llm_judge_llamacpp.py builds the same venv."""
MISSING = missing_cpu_flags()
NEEDS_LLAMACPP = pytest.mark.skipif(
    bool(MISSING),
    reason=f"llama.cpp is built for x86-64 with {', '.join(CPU_FLAGS)}; "
    f"this CPU lacks {', '.join(MISSING)}",
)


@pytest.fixture(scope="module")
def tools() -> LlamaCppTools:
    """llama.cpp's tools under the tests' cache; a test skips only if they cannot be built."""
    try:
        return ensure_tools(CACHE, print)
    except ToolMissingError as error:
        pytest.skip(f"llama.cpp's tools cannot be built here: {str(error)[:300]}")
