"""Parse speed: ours vs DocumentLanguageModel 0.10.0 on the same generated 1 MB document.

Run: `uv run python bench/parse.py [--size BYTES] [--repeat N] [--no-reference]`.
Prints cold parse+validate (both of our paths), incremental re-validation after a
one-line edit (p50/p95 and the ratio to a full re-parse), the reference's time on
the same file in its own venv (scripts/dlm_reference.py): the same work as ours
(`parse_text` plus its instruction and preference body parsers on every section)
and `parse_text` alone, the ratio to the same work (target <= 1.2x), and the
whole-process time of `dlm check` on a small file with its bytecode cached (target
< 200 ms).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dlmlang  # noqa: E402
from bench.generate import generate_document  # noqa: E402
from dlmlang.incremental import IncrementalParser, parse_blocks  # noqa: E402


def main() -> None:
    """Run every measurement and print a table; ours and the reference alternate."""
    options = _options()
    text = generate_document(options.size)
    reference = None if options.no_reference else _load_reference()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.dlm"
        path.write_text(text, encoding="utf-8")
        sections = len(dlmlang.parse(text).sections)
        print(
            f"document: {len(text.encode()):,} bytes, {text.count(chr(10)):,} lines, "
            f"{sections:,} sections; {options.rounds} alternating rounds of {options.repeat}"
        )
        whole: list[float] = []
        blocks: list[float] = []
        theirs: list[float] = []
        theirs_sections_only: list[float] = []
        for _ in range(options.rounds):
            whole += _times(lambda: dlmlang.parse(text), options.repeat)
            blocks += _times(lambda: parse_blocks(text), options.repeat)
            if reference is not None:
                same_work, sections_only = _reference_times(reference, path, options.repeat)
                theirs += same_work
                theirs_sections_only += sections_only
        _row("ours, cold parse+validate (grammar, whole body)", whole)
        _row("ours, cold parse+validate (block path)", blocks)
        p50, p95 = _incremental(text, options.repeat * 10)
        full = statistics.median(whole)
        print(
            f"{'ours, one-line edit re-validate':52} p50 {p50 * 1e3:7.2f} ms  "
            f"p95 {p95 * 1e3:7.2f} ms  ({full / p50:.0f}x faster than a full re-parse)"
        )
        if theirs:
            _row("DocumentLanguageModel 0.10.0 parse_text + bodies", theirs)
            _row("DocumentLanguageModel 0.10.0 parse_text alone", theirs_sections_only)
            ratio = full / statistics.median(theirs)
            label = "ratio ours/reference (same work, whole body)"
            print(f"{label:52} {ratio:.2f}x  (target <= 1.2x)")
        elif not options.no_reference:
            print("DocumentLanguageModel: not measured (scripts/dlm_reference.py unavailable)")
    _check_startup(options.repeat)


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000, help="document size in bytes")
    parser.add_argument("--repeat", type=int, default=5, help="runs per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--no-reference", action="store_true", help="skip DocumentLanguageModel")
    return parser.parse_args()


def _times(run: Callable[[], object], repeat: int) -> list[float]:
    run()  # warm-up: grammar compiled, caches filled
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        out.append(time.perf_counter() - start)
    return out


def _row(label: str, times: list[float]) -> None:
    print(
        f"{label:52} median {statistics.median(times) * 1e3:7.1f} ms  "
        f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}, n={len(times)})"
    )


def _incremental(text: str, edits: int) -> tuple[float, float]:
    parser = IncrementalParser()
    parser.parse(text)
    lines = text.split("\n")
    step = max(1, len(lines) // (edits + 1))
    times = []
    for index in range(edits):
        target = 20 + index * step
        lines[target] = lines[target] + " edited"
        edited = "\n".join(lines)
        start = time.perf_counter()
        parser.parse(edited)
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def _reference_times(
    module: ModuleType, path: Path, repeat: int
) -> tuple[list[float], list[float]]:
    """The reference's times: parse_text plus its body parsers, and parse_text alone."""
    try:
        result = module.time_reference_parse(path, repeat)
    except Exception as error:  # the reference venv may be impossible offline
        print(f"DocumentLanguageModel: not measured ({error})")
        return [], []
    same_work = [float(t) for t in result["with_bodies"]["times_s"]]
    return same_work, [float(t) for t in result["parse_text"]["times_s"]]


def _load_reference() -> ModuleType | None:
    script = ROOT / "scripts" / "dlm_reference.py"
    if not script.exists():
        return None
    spec = importlib.util.spec_from_file_location("dlm_reference", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check_startup(repeat: int) -> None:
    """`dlm check` as a user runs it: bytecode written once (to a scratch folder, even
    where PYTHONDONTWRITEBYTECODE is set) and read on every later run."""
    sample = ROOT / "bench" / "samples" / "small.dlm"
    command = [sys.executable, "-m", "dlm", "check", str(sample)]
    times = []
    with tempfile.TemporaryDirectory() as bytecode:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = bytecode
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=env)
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=env)
            times.append(time.perf_counter() - start)
    _row("`dlm check` small file, whole process", times)
    print(f"{'':52} target < 200 ms")


if __name__ == "__main__":
    main()
