"""`dlm --help` and `dlm check` never import torch, transformers or trl."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "trl", "peft")


@pytest.mark.parametrize(
    "arguments",
    [["--help"], ["check", str(ROOT / "examples" / "notes.dlm")]],
    ids=["help", "check"],
)
def test_no_heavy_imports(arguments: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dlm", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    assert imported, "importtime printed nothing"
    assert not imported & set(HEAVY)
