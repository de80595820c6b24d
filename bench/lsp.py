"""Language-server diagnostics latency after a one-line edit in a 1 MB document.

Run: `uv run python bench/lsp.py [--edits 200] [--size 1000000]`.

Measures the server-side compute of one diagnostics publish -- the incremental
re-parse of the edited text plus turning the findings into protocol diagnostics
(UTF-16 ranges) -- exactly the functions the server calls, without the debounce
wait or the transport. Side by side, each edit also goes through a whole-document
parse (what a server without the incremental parser would do). Edits alternate
between the two and between kinds: typing into a line, inserting a line, deleting
one. Prints p50/p95 for both and the ratio. Target: p95 < 10 ms.
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
    """Edit, re-validate, time."""
    import dlmlang
    from bench.generate import generate_document
    from lsp.diagnostics import lsp_diagnostics
    from lsp.positions import split_lines
    from lsp.state import OpenDocument, Snapshot

    options = _options()
    rng = random.Random(0)
    text = generate_document(options.size)
    server_side = OpenDocument()
    server_side.parse(text, 0)
    ours: list[float] = []
    whole: list[float] = []
    by_kind: dict[str, list[float]] = {"type in a line": [], "add/remove a line": []}
    for version in range(1, options.edits + 1):
        text, kind = _edit(text, rng)
        started = time.perf_counter()
        snapshot = server_side.parse(text, version)
        lsp_diagnostics(snapshot)
        ours.append(time.perf_counter() - started)
        by_kind[kind].append(ours[-1])
        started = time.perf_counter()
        document = dlmlang.parse(text)
        lsp_diagnostics(Snapshot(version, text, document, split_lines(text)))
        whole.append(time.perf_counter() - started)
    print(f"{options.edits} one-line edits in a {len(text.encode()) / 1e6:.2f} MB document")
    rows = [("incremental (server)", ours), ("whole-document parse", whole)]
    rows += [(f"  incremental, {kind}", times) for kind, times in by_kind.items() if times]
    for name, times in rows:
        ms = sorted(t * 1000 for t in times)
        print(
            f"  {name:36} p50 {statistics.median(ms):7.2f} ms  "
            f"p95 {ms[int(0.95 * (len(ms) - 1))]:7.2f} ms  max {ms[-1]:7.2f} ms"
        )
    p95_ours = sorted(ours)[int(0.95 * (len(ours) - 1))]
    p95_whole = sorted(whole)[int(0.95 * (len(whole) - 1))]
    print(
        f"  p95 speed-up: {p95_whole / p95_ours:.1f}x; target p95 < 10 ms: "
        f"{'met' if p95_ours * 1000 < 10 else 'NOT met'}"
    )


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
    return parser.parse_args()


if __name__ == "__main__":
    main()
