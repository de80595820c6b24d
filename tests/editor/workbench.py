"""The VS Code workbench in chromium, driven by playwright the way a user drives it:
quick open, the command palette, the keyboard, and what the panels show."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

EDITOR = ".monaco-editor[data-uri$='.dlm']"
WAIT = 30.0
"""Seconds a step may take before the test fails (the server's first parse included)."""


class Workbench:
    """One browser tab showing code-server's workbench on a folder."""

    def __init__(self, page: Any, url: str, folder: Path) -> None:
        """Open `folder` (a folder of its own per test: VS Code keeps open editors per folder)."""
        self.page = page
        self.folder = folder
        page.goto(f"{url}/?folder={folder}")
        page.wait_for_selector(".monaco-workbench .part.editor", timeout=WAIT * 1000)
        page.wait_for_selector(".statusbar", timeout=WAIT * 1000)

    def open_file(self, name: str) -> None:
        """Open a file of the folder with quick open, and wait for its editor."""
        self.page.keyboard.press("Control+p")
        self.page.wait_for_selector(".quick-input-widget .quick-input-box input")
        self.page.keyboard.type(name)
        self.wait_for(lambda: name in self._quick_pick_text(), f"{name} in quick open")
        self.page.keyboard.press("Enter")
        self.page.wait_for_selector(f"{EDITOR} .view-lines", timeout=WAIT * 1000)
        self.page.locator(f"{EDITOR} .view-lines").click()
        self.wait_for_server()

    def wait_for_server(self) -> None:
        """Wait until the extension's status bar item says the language server runs."""
        running = self.page.locator(".statusbar-item:has(.codicon-check)", has_text="dlm")
        self.wait_for(lambda: running.count() > 0, "the dlm language server to run")

    def run_command(self, title: str) -> None:
        """Run a command by its title from the command palette."""
        self.page.keyboard.press("F1")
        self.page.wait_for_selector(".quick-input-widget .quick-input-box input")
        self.page.keyboard.type(title)
        self.wait_for(lambda: title in self._quick_pick_text(), f"`{title}` in the palette")
        self.page.keyboard.press("Enter")

    def go_to(self, line: int, column: int = 1) -> None:
        """Put the cursor at a 1-based line and column (Go to Line)."""
        self.page.keyboard.press("Control+g")
        self.page.wait_for_selector(".quick-input-widget .quick-input-box input")
        self.page.keyboard.type(f"{line}:{column}")
        self.page.keyboard.press("Enter")

    def editor_text(self) -> str:
        """The lines the editor shows, top to bottom (the whole document when it fits)."""
        rows = self.page.locator(f"{EDITOR} .view-lines .view-line")
        tops = rows.evaluate_all(
            "rows => rows.map(r => [parseFloat(r.style.top) || 0, r.textContent])"
        )
        lines = [text.replace("\u00a0", " ") for _, text in sorted(tops)]
        return "\n".join(lines)

    def token_classes(self) -> set[str]:
        """The distinct colour classes (`mtkN`) in the editor: one means no highlighting."""
        classes = self.page.locator(f"{EDITOR} .view-lines span[class*='mtk']").evaluate_all(
            "spans => spans.map(s => s.className)"
        )
        return {m for c in classes for m in re.findall(r"\bmtk\d+\b", c)}

    def problems(self) -> list[str]:
        """The rows of the Problems panel, each as its text on one line."""
        if not self.page.locator(".markers-panel").is_visible():
            self.page.keyboard.press("Control+Shift+m")
            self.page.wait_for_selector(".markers-panel", timeout=WAIT * 1000)
        rows = self.page.locator(".markers-panel .monaco-list-row")
        return [" ".join(text.split()) for text in rows.all_inner_texts()]

    def outline(self) -> list[str]:
        """The rows of the Outline view (opened if needed)."""
        self.run_command("Explorer: Focus on Outline View")
        pane = self.page.locator(".pane:has(.pane-header[aria-label^='Outline']) .monaco-list-row")
        self.wait_for(lambda: pane.count() > 0, "rows in the Outline view")
        return [" ".join(text.split()) for text in pane.all_inner_texts()]

    def suggestions(self) -> list[str]:
        """The labels of the open suggest widget."""
        rows = self.page.locator(".editor-widget.suggest-widget.visible .monaco-list-row")
        self.wait_for(lambda: rows.count() > 0, "the completion list")
        return [text.split("\n")[0].strip() for text in rows.all_inner_texts()]

    def notifications(self) -> list[str]:
        """The text of the notification toasts shown now."""
        toasts = self.page.locator(".notifications-toasts .notification-list-item-message")
        return [" ".join(text.split()) for text in toasts.all_inner_texts()]

    def status_text(self) -> str:
        """The status bar's text."""
        return " ".join(self.page.locator(".statusbar").inner_text().split())

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
        """Poll `check` until it holds; fail naming `what` when it never does."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> Path:
        """Save what the window shows now."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))
        return path

    def illustrate(self, name: str) -> None:
        """Save a screenshot for the docs when DLM_EDITOR_E2E_DOCS names a folder
        (`DLM_EDITOR_E2E_DOCS=docs/images`); otherwise do nothing."""
        folder = os.environ.get("DLM_EDITOR_E2E_DOCS")
        if folder:
            self.screenshot(Path(folder) / f"editor-{name}.png")

    def _quick_pick_text(self) -> str:
        return " ".join(
            self.page.locator(".quick-input-widget .quick-input-list").all_inner_texts()
        )
