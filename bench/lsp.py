"""Language-server diagnostics latency after a one-line edit in a 1 MB document.

Run: `uv run python bench/lsp.py [--edits 200] [--size 1000000] [--rounds 3]`.

Measures the server-side compute of one diagnostics publish -- the incremental
re-parse of the edited text plus turning the findings into protocol diagnostics
(UTF-16 ranges) -- exactly the functions the server calls, without the debounce
wait or the transport. The baseline is a whole-document parse of each edited text
(what a server without the incremental parser would do). The same 200 edits (typing
into a line 60%, inserting a line 20%, deleting one 20%) go through each side in
turn, the sides alternating round by round. Prints p50/p95 for both and the ratio.
Target: p95 < 10 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    """Edit, re-validate, time: each side over the same edits, in alternating rounds."""
    options = _options()
    rng = random.Random(0)
    from bench.generate import generate_document

    original = generate_document(options.size)
    texts, kinds = [], []
    text = original
    for _ in range(options.edits):
        text, kind = _edit(text, rng)
        texts.append(text)
        kinds.append(kind)
    results: dict[str, list[list[float]]] = {"incremental (server)": [], "whole-document parse": []}
    for _ in range(options.rounds):
        results["incremental (server)"].append(_incremental(original, texts))
        results["whole-document parse"].append(_whole(texts))
    print(
        f"{options.edits} one-line edits in a {len(original.encode()) / 1e6:.2f} MB document, "
        f"{options.rounds} alternating rounds (median over rounds of each percentile)"
    )
    summary = {}
    for name, rounds in results.items():
        summary[name] = _report(name, rounds)
    for kind in sorted(set(kinds)):
        rounds = [
            [t for t, k in zip(r, kinds, strict=True) if k == kind]
            for r in results["incremental (server)"]
        ]
        _report(f"  incremental, {kind}", rounds)
    ratio = summary["whole-document parse"][1] / summary["incremental (server)"][1]
    met = "met" if summary["incremental (server)"][1] < 10 else "NOT met"
    print(f"  p95 speed-up: {ratio:.1f}x; target p95 < 10 ms: {met}")


def _incremental(original: str, texts: list[str]) -> list[float]:
    from lsp.diagnostics import lsp_diagnostics
    from lsp.state import OpenDocument

    server_side = OpenDocument()
    server_side.parse(original, 0)
    times = []
    for version, text in enumerate(texts, start=1):
        started = time.perf_counter()
        lsp_diagnostics(server_side.parse(text, version))
        times.append(time.perf_counter() - started)
    return times


def _whole(texts: list[str]) -> list[float]:
    import dlmlang
    from lsp.diagnostics import lsp_diagnostics
    from lsp.positions import split_lines
    from lsp.state import Snapshot

    times = []
    for version, text in enumerate(texts, start=1):
        started = time.perf_counter()
        document = dlmlang.parse(text)
        lsp_diagnostics(Snapshot(version, text, document, split_lines(text)))
        times.append(time.perf_counter() - started)
    return times


def _report(name: str, rounds: list[list[float]]) -> tuple[float, float]:
    p50s = [statistics.median(r) * 1000 for r in rounds]
    p95s = [sorted(r)[int(0.95 * (len(r) - 1))] * 1000 for r in rounds]
    p50, p95 = statistics.median(p50s), statistics.median(p95s)
    print(
        f"  {name:36} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  "
        f"(p95 over rounds {min(p95s):.2f}-{max(p95s):.2f})"
    )
    return p50, p95


def _edit(text: str, rng: random.Random) -> tuple[str, str]:
    lines = text.split("\n")
    line = rng.randrange(5, len(lines) - 1)  # leave the frontmatter alone
    kind = rng.random()
    if kind < 0.6:
        lines[line] = lines[line] + rng.choice([" word", "x", " 😀", " 中"])
        return "\n".join(lines), "type in a line"
    if kind < 0.8:
        lines.insert(line, rng.choice(["a new line of prose", "### Q", "", "```"]))
    else:
        del lines[line]
    return "\n".join(lines), "add/remove a line"


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


if __name__ == "__main__":
    main()
