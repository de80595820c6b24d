"""Language-server diagnostics latency after a one-line edit in a 1 MB document.

Run: `uv run python bench/lsp.py [--edits 200] [--size 1000000] [--rounds 3]`, or
`uv run python bench/lsp.py --memory-edits 10000 [--size 20000]`.

Measures the server-side compute of one edit up to its diagnostics: applying the
client's `didChange` range to the document text, the incremental re-parse, and
turning the findings into protocol diagnostics (UTF-16 ranges) -- exactly the
functions the server calls, without the debounce wait or the transport. The
baseline is a server built the usual way: pygls's workspace applies the change and
the whole document is parsed again. The same 200 edits (typing into a line 60%,
inserting a line 20%, deleting one 20%; a quarter of the inserted lines are code
fences ```) go through each side in turn, the sides alternating round by round.
Prints p50/p95 for both, by kind of edit, and the ratio. Target: p95 < 10 ms.

`--memory-edits N` checks memory instead: N edits of the same mix go through a server
built by `create_server()` in this process, as protocol messages (`didChange`, then
the debounced publish: `OpenDocument.change`, `snapshot`, the diagnostics). It prints
the resident set size, the objects the cycle collector tracks (frozen ones too) and
how many of them are frozen, at the start, every 1000 edits and at the end, and
whether they stayed flat after the first 1000 edits (the parser's caches fill then).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

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
    if options.memory_edits:
        asyncio.run(_memory(original, options.memory_edits, rng))
        return
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
    from lsp.features.diagnostics import lsp_diagnostics
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
    from lsp.features.diagnostics import lsp_diagnostics
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


async def _memory(original: str, edits: int, rng: random.Random) -> None:
    """Edit through an in-process server; report memory every 1000 edits."""
    from lsp.server import create_server

    server = create_server()
    server.protocol.set_writer(_Discard())
    protocol = server.protocol

    def send(method: str, params: dict[str, Any], request_id: int | None = None) -> None:
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if request_id is not None:
            message["id"] = request_id
        protocol.handle_message(
            json.loads(json.dumps(message), object_hook=protocol.structure_message)
        )

    options = {"diagnosticsDelay": 0, "dlmCommand": ["true"]}
    send("initialize", {"capabilities": {}, "initializationOptions": options}, 1)
    uri = "untitled:bench.dlm"
    item = {"uri": uri, "languageId": "dlm", "version": 1, "text": original}
    send("textDocument/didOpen", {"textDocument": item})
    lines = original.split("\n")
    print(
        f"{edits} one-line edits in a {len(original.encode()) / 1e6:.2f} MB document "
        "through an in-process server"
    )
    readings = [_reading(0)]
    for version in range(2, edits + 2):
        change, _ = _edit(lines, rng)
        params = {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [protocol._converter.unstructure(change, Change)],
        }
        send("textDocument/didChange", params)
        while server.pending:  # the debounced publish
            await asyncio.sleep(0)
        if (version - 1) % 1000 == 0 or version == edits + 1:
            readings.append(_reading(version - 1))
    assert server.documents.text(uri) == "\n".join(lines)
    warm = readings[min(1, len(readings) - 1)]
    end = readings[-1]
    flat = end.rss <= warm.rss * 1.02 + 2e6 and end.tracked <= warm.tracked * 1.02 + 1000
    print(
        f"  from edit {warm.edits} to {end.edits}: RSS {end.rss - warm.rss:+,.0f} bytes, "
        f"tracked objects {end.tracked - warm.tracked:+,}: "
        f"{'flat' if flat else 'NOT flat'} (within 2% + 2 MB and 2% + 1000 objects)"
    )


class _Reading:
    """Memory after some edits."""

    def __init__(self, edits: int) -> None:
        import gc

        import psutil

        self.edits = edits
        self.rss = psutil.Process().memory_info().rss
        self.frozen = gc.get_freeze_count()
        self.tracked = len(gc.get_objects()) + self.frozen


def _reading(edits: int) -> _Reading:
    reading = _Reading(edits)
    print(
        f"  after {edits:6} edits: RSS {reading.rss / 1e6:7.1f} MB, "
        f"{reading.tracked:9,} objects tracked, {reading.frozen:9,} of them frozen"
    )
    return reading


class _Discard:
    """Where the server's messages go: nowhere."""

    def write(self, data: bytes) -> None:
        """Drop one message."""

    def close(self) -> None:
        """Nothing to close."""


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
    parser.add_argument(
        "--memory-edits", type=int, default=0, help="check memory over this many edits instead"
    )
    return parser.parse_args()


if __name__ == "__main__":
    main()
