"""Memory over many edits (counted, not timed): what the server keeps per edit, and what
the frozen heap keeps (`lsp.state._settle_heap` freezes it after each parse)."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

from lsprotocol import types

from lsp import state
from lsp.server import DlmServer, create_server
from lsp.state import OpenDocument

TEXT = """---
dlm_id: 01JQ7Z0000000000000000000A
base_model: smollm2-135m
---

Harwick Island lies off the north coast.

::instruction::
### Q
When does the Tern leave?
### A
At 7:40.
"""
LINE = 5  # the prose line the edits type into and delete from


def edit(version: int) -> types.TextDocumentContentChangePartial:
    """Odd versions type " x" at the end of the prose line, even ones take it out again."""
    end = len(TEXT.splitlines()[LINE])
    if version % 2:
        at = types.Position(LINE, end)
        return types.TextDocumentContentChangePartial(range=types.Range(at, at), text=" x")
    span = types.Range(types.Position(LINE, end), types.Position(LINE, end + 2))
    return types.TextDocumentContentChangePartial(range=span, text="")


def tracked() -> int:
    """Every object the cycle collector knows of, frozen or not, after a collection of
    the unfrozen ones."""
    gc.collect()
    return len(gc.get_objects()) + gc.get_freeze_count()


def cycle(size: int) -> list[Any]:
    """`size` objects that refer to one another: only the cycle collector frees them."""
    ring: list[Any] = [[] for _ in range(size)]
    for index, item in enumerate(ring):
        item.append(ring[index - 1])
    return ring


def test_cyclic_garbage_made_between_edits_is_not_frozen() -> None:
    document = OpenDocument(TEXT, 0)
    document.snapshot()
    for version in range(1, 3001):
        cycle(10)  # garbage as an edit's handling makes it (a cancelled task, an error)
        document.change([edit(version)], version, "utf-16")
        document.snapshot()
        if version == 200:
            frozen = gc.get_freeze_count()
    assert document.buffer.text == TEXT
    assert gc.get_freeze_count() - frozen < 1000  # 28,000 garbage objects were made


def test_frozen_objects_that_die_in_a_cycle_are_swept() -> None:
    document = OpenDocument(TEXT, 0)
    document.snapshot()
    baseline = max(gc.get_freeze_count(), state._Frozen.after_sweep)
    edits = 2000
    size = 2 * baseline // edits + 1  # twice the frozen heap's size in garbage, in all
    for version in range(1, edits + 1):
        alive = cycle(size)  # alive while the text is parsed (and frozen), dropped after
        document.change([edit(version)], version, "utf-16")
        document.snapshot()
        del alive
    assert gc.get_freeze_count() <= state.SWEEP_GROWTH * baseline + state.SWEEP_CHECK * size


class InProcess:
    """A server fed protocol messages in this process; what it sends is dropped."""

    def __init__(self) -> None:
        self.server: DlmServer = create_server()
        self.server.protocol.set_writer(self)
        self.ids = 0

    def write(self, data: bytes) -> None:
        """The server's output (a writer's one method it uses)."""

    def close(self) -> None:
        """Nothing to close."""

    def send(self, method: str, params: dict[str, Any], request: bool = False) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.ids += 1
            message["id"] = self.ids
        protocol = self.server.protocol
        protocol.handle_message(
            json.loads(json.dumps(message), object_hook=protocol.structure_message)
        )


async def test_the_server_keeps_nothing_per_edit() -> None:
    driver = InProcess()
    options = {"diagnosticsDelay": 0, "dlmCommand": ["true"]}
    driver.send("initialize", {"capabilities": {}, "initializationOptions": options}, True)
    uri = "untitled:notes.dlm"
    item = {"uri": uri, "languageId": "dlm", "version": 1, "text": TEXT}
    driver.send("textDocument/didOpen", {"textDocument": item})
    for version in range(2, 2002):
        change = types.TextDocumentContentChangePartial
        converter = driver.server.protocol._converter
        params = {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [converter.unstructure(edit(version - 1), change)],
        }
        driver.send("textDocument/didChange", params)
        for _ in range(3):  # the debounced publish runs
            await asyncio.sleep(0)
        if version == 201:
            before = tracked()
    assert driver.server.documents.text(uri) == TEXT
    assert not driver.server.pending
    assert len(driver.server.protocol._request_futures) < 5
    assert tracked() - before < 1000  # a leak of one object per edit would be 1,800
