"""Language-server diagnostics latency after a one-line edit in a 1 MB document.

Run: `uv run python bench/lsp.py [--edits 200] [--size 1000000] [--rounds 3]`.

Measures the server-side compute of one edit up to its diagnostics: applying the
client's `didChange` range to the document text, the incremental re-parse, and
turning the findings into protocol diagnostics (UTF-16 ranges) -- exactly the
functions the server calls, without the debounce wait or the transport. The
baseline is a server built the usual way: pygls's workspace applies the change and
the whole document is parsed again. The same 200 edits (typing into a line 60%,
inserting a line 20%, deleting one 20%; a quarter of the inserted lines are code
fences ```) go through each side in turn, the sides alternating round by round.
Prints p50/p95 for both, by kind of edit, and the ratio. Target: p95 < 10 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

Change = types.TextDocumentContentChangePartial


def main() -> None:
    """Edit, re-validate, time: each side over the same edits, in alternating rounds."""
    options = _options()
    rng = random.Random(0)
    from bench.generate import generate_document

    original = generate_document(options.size)
    changes, kinds = [], []
    lines = original.split("\n")
    for _ in range(options.edits):
        change, kind = _edit(lines, rng)
        changes.append(change)
        kinds.append(kind)
    results: dict[str, list[list[float]]] = {"incremental (server)": [], "whole-document parse": []}
    final = "\n".join(lines)
    for _ in range(options.rounds):
        results["incremental (server)"].append(_incremental(original, changes, final))
        results["whole-document parse"].append(_whole(original, changes, final))
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
    others = [
        [t for t, k in zip(r, kinds, strict=True) if k != FENCE_EDIT]
        for r in results["incremental (server)"]
    ]
    _, others_p95 = _report("  incremental, all but ``` lines", others)
    ratio = summary["whole-document parse"][1] / summary["incremental (server)"][1]
    p95 = summary["incremental (server)"][1]
    print(
        f"  p95 speed-up: {ratio:.1f}x; target p95 < 10 ms: "
        f"{'met' if p95 < 10 else 'NOT met'} over all edits, "
        f"{'met' if others_p95 < 10 else 'NOT met'} over edits that leave ``` lines alone "
        f"({kinds.count(FENCE_EDIT)} of {len(kinds)} add or remove one)"
    )


def _incremental(original: str, changes: list[Change], final: str) -> list[float]:
    from lsp.diagnostics import lsp_diagnostics
    from lsp.state import OpenDocument

    server_side = OpenDocument(original, 0)
    server_side.snapshot()
    times = []
    for version, change in enumerate(changes, start=1):
        started = time.perf_counter()
        server_side.change([change], version, "utf-16")
        lsp_diagnostics(server_side.snapshot())
        times.append(time.perf_counter() - started)
    assert server_side.buffer.text == final
    return times


def _whole(original: str, changes: list[Change], final: str) -> list[float]:
    from pygls.workspace import TextDocument

    import dlmlang
    from dlmlang.incremental import Parsed
    from lsp.diagnostics import lsp_diagnostics
    from lsp.positions import split_lines
    from lsp.state import Snapshot

    document = TextDocument(
        "file:///bench.dlm", original, sync_kind=types.TextDocumentSyncKind.Incremental
    )
    times = []
    for change in changes:
        started = time.perf_counter()
        document.apply_change(change)
        text = document.source
        parsed = dlmlang.parse(text)
        lines = split_lines(text)
        lsp_diagnostics(Snapshot(None, text, Parsed(parsed.diagnostics, document=parsed), lines))
        times.append(time.perf_counter() - started)
    assert document.source == final
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


def _edit(lines: list[str], rng: random.Random) -> tuple[Change, str]:
    """One edit as a client sends it (UTF-16 range), applied to `lines` too."""
    line = rng.randrange(5, len(lines) - 1)  # leave the frontmatter alone
    kind = rng.random()
    if kind < 0.6:
        typed = rng.choice([" word", "x", " 😀", " 中"])
        end = types.Position(line, len(lines[line].encode("utf-16-le")) // 2)
        lines[line] += typed
        return Change(range=types.Range(end, end), text=typed), "type in a line"
    start = types.Position(line, 0)
    if kind < 0.8:
        new_line = rng.choice(["a new line of prose", "### Q", "", "```"])
        lines.insert(line, new_line)
        change = Change(range=types.Range(start, start), text=new_line + "\n")
        return change, _line_kind(new_line)
    removed = lines.pop(line)
    return Change(range=types.Range(start, types.Position(line + 1, 0)), text=""), _line_kind(
        removed
    )


FENCE_EDIT = "add/remove a ``` line"


def _line_kind(line: str) -> str:
    # A code fence line turns the code state of everything after it around: every
    # fence below changes meaning, so such an edit re-parses the rest of the document.
    return FENCE_EDIT if line.startswith("```") else "add/remove a line"


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


if __name__ == "__main__":
    main()
