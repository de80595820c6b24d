"""Fixtures of the real-VS-Code tests: code-server, chromium, a workbench per test, and a
screenshot of every failure. They run only when asked for (`-m editor`) and after
scripts/editor-e2e-setup; otherwise they are skipped (or, with DLM_EDITOR_E2E_REQUIRED=1
as in CI, fail) with the reason."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.editor.codeserver import ROOT, CodeServer, Tools, code_server, find_tools, find_vsix
from tests.editor.documents import write_workspace
from tests.editor.workbench import Workbench

SHOTS = Path(os.environ.get("DLM_EDITOR_E2E_SHOTS") or ROOT / "build" / "editor-e2e")
"""Where a failing test's screenshot goes."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the editor tests unless the run selects them with `-m editor`."""
    expression = config.getoption("markexpr", "") or ""
    if "editor" in expression and "not editor" not in expression:
        return
    skip = pytest.mark.skip(
        reason="drives a real VS Code: run with `-m editor` (see docs/editors.md)"
    )
    for item in items:
        if item.get_closest_marker("editor"):
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Save a screenshot of the workbench when a test fails, and name it in the report."""
    outcome: Any = yield
    report = outcome.get_result()
    bench = getattr(item, "workbench", None)
    if report.when in ("setup", "call") and report.failed and bench is not None:
        name = re.sub(r"[^\w.-]+", "_", item.name)
        try:
            path = bench.screenshot(SHOTS / f"{name}.png")
            report.sections.append(("editor screenshot", f"saved to {path}"))
        except Exception as error:  # a dead browser must not hide the test's own failure
            report.sections.append(("editor screenshot", f"could not be taken: {error!r}"))


def _unavailable(reason: str) -> None:
    if os.environ.get("DLM_EDITOR_E2E_REQUIRED") == "1":
        pytest.fail(f"DLM_EDITOR_E2E_REQUIRED=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tools() -> Tools:
    """node, code-server and chromium from scripts/editor-e2e-setup."""
    found, reason = find_tools()
    if importlib.util.find_spec("playwright") is None:
        found, reason = None, "playwright is not installed: run scripts/editor-e2e-setup"
    if found is None:
        _unavailable(reason)
    assert found is not None
    return found


@pytest.fixture(scope="session")
def vsix(tools: Tools) -> Path:
    """The .vsix built from vscode-ext/ (and not older than its sources)."""
    found, reason = find_vsix()
    if found is None:
        _unavailable(reason)
    assert found is not None
    return found


@pytest.fixture(scope="session")
def dlm_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The store of this session, for the tests' own `dlm` runs and the editor's."""
    home = tmp_path_factory.mktemp("dlm-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLM_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def browser(tools: Tools) -> Iterator[Any]:
    """Headless chromium (the system's), driven by playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(tools.chromium), args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def vscode(
    tools: Tools, vsix: Path, dlm_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CodeServer]:
    """code-server with every folder trusted (each test opens a folder of its own)."""
    workspace = tmp_path_factory.mktemp("workspace")
    home = tmp_path_factory.mktemp("code-server")
    with code_server(tools, vsix, home, workspace, env={"DLM_HOME": str(dlm_home)}) as server:
        yield server


def open_workbench(
    request: pytest.FixtureRequest, browser: Any, server: CodeServer, folder: Path
) -> Iterator[Workbench]:
    """A fresh tab on `folder`, kept on the test item for its screenshot."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        bench = Workbench(page, server.url, folder)
        request.node.workbench = bench
        yield bench
    finally:
        page.close()


@pytest.fixture
def workbench(
    request: pytest.FixtureRequest, browser: Any, vscode: CodeServer, tmp_path: Path
) -> Iterator[Workbench]:
    """The workbench on a folder of this test's own, holding the test documents."""
    yield from open_workbench(request, browser, vscode, write_workspace(tmp_path))
