"""A copied document shares its original's store: `dlm show` and `dlm train` say so,
and `dlm new-id` gives the copy a store of its own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_json_docs import _documented, _shape
from tests.cli.test_train_cli import DLM_ID, write_document

runner = CliRunner()


def _warning(other: Path, this: Path, home: Path, copy: Path) -> str:
    return (
        f"{other} has the same dlm_id as {this} and shares its store ({home / 'store' / DLM_ID}):"
        " their runs, adapters and staged pairs mix. If one is a copy, give it its own id: "
        f"`dlm new-id {copy}`.\n"
    )


def _show(path: Path) -> tuple[str, dict[str, Any]]:
    """The stderr of `dlm show PATH`, and its JSON."""
    text = runner.invoke(app, ["show", str(path)])
    assert text.exit_code == 0, text.output
    shown = runner.invoke(app, ["show", str(path), "--json"])
    assert shown.exit_code == 0, shown.output
    assert shown.stderr == ""
    return text.stderr, json.loads(shown.stdout)


def _original_and_copy(tmp_path: Path) -> tuple[Path, Path]:
    original = write_document(tmp_path, tmp_path / "no-model-needed")
    assert runner.invoke(app, ["show", str(original)]).exit_code == 0
    copy = tmp_path / "notes2.dlm"
    shutil.copyfile(original, copy)
    return original, copy


def test_show_warns_on_both_sides_of_a_copy(tmp_path: Path, home: Path) -> None:
    original, copy = _original_and_copy(tmp_path)
    stderr, shown = _show(copy)
    assert stderr == _warning(original.resolve(), copy, home, copy)
    assert shown["shared_with"] == [str(original.resolve())]
    stderr, shown = _show(original)
    # The copy opened the store later: it is the one the warning suggests giving a new id.
    assert stderr == _warning(copy.resolve(), original, home, copy.resolve())
    assert shown["shared_with"] == [str(copy.resolve())]


def test_new_id_gives_the_copy_its_own_store_and_ends_the_warning(
    tmp_path: Path, home: Path
) -> None:
    original, copy = _original_and_copy(tmp_path)
    _show(copy)
    before = copy.read_text(encoding="utf-8")

    result = runner.invoke(app, ["new-id", str(copy), "--json"])

    assert result.exit_code == 0, result.output
    changed = json.loads(result.stdout)
    assert _shape(changed) == _shape(_documented("dlm new-id --json"))
    assert changed["path"] == str(copy) and changed["old_id"] == DLM_ID
    assert copy.read_text(encoding="utf-8") == before.replace(DLM_ID, changed["new_id"])
    stderr, shown = _show(copy)
    assert stderr == "" and shown["shared_with"] == []
    assert shown["store"] == {
        "root": str(home / "store" / changed["new_id"]),
        "current": None,
        "adapter_versions": [],
        "runs": [],
        "evals": [],
        "exports": [],
    }
    stderr, shown = _show(original)
    assert stderr == "" and shown["shared_with"] == []
    assert shown["store"]["root"] == str(home / "store" / DLM_ID)


def test_new_id_says_what_happened_to_the_stores(tmp_path: Path, home: Path) -> None:
    _, copy = _original_and_copy(tmp_path)
    result = runner.invoke(app, ["new-id", str(copy)])
    assert result.exit_code == 0, result.output
    new = copy.read_text(encoding="utf-8").split("dlm_id: ", 1)[1][:26]
    assert result.stdout == (
        f"{copy}: dlm_id {DLM_ID} -> {new}. It starts with an empty store; the store of "
        f"{DLM_ID} (its runs, adapters and staged pairs) stays with the other file that has "
        "that id.\n"
    )


def test_new_id_refuses_a_document_with_errors(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "broken.dlm"
    path.write_text(f"---\ndlm_id: {DLM_ID}\n---\n", encoding="utf-8")  # no base_model
    result = runner.invoke(app, ["new-id", str(path)])
    assert result.exit_code == 1
    assert "has errors (above); nothing was done" in result.stderr
    assert path.read_text(encoding="utf-8") == f"---\ndlm_id: {DLM_ID}\n---\n"


def test_a_renamed_document_is_not_a_copy(tmp_path: Path, home: Path) -> None:
    original, _ = _original_and_copy(tmp_path)
    (tmp_path / "notes2.dlm").unlink()
    moved = original.rename(tmp_path / "renamed.dlm")
    stderr, shown = _show(moved)
    assert stderr == "" and shown["shared_with"] == []


def test_a_copy_whose_id_was_changed_by_hand_is_forgotten(tmp_path: Path, home: Path) -> None:
    original, copy = _original_and_copy(tmp_path)
    _show(copy)
    other = "01JQ7Z0000000000000000000B"
    copy.write_text(copy.read_text(encoding="utf-8").replace(DLM_ID, other), encoding="utf-8")
    stderr, shown = _show(original)
    assert stderr == "" and shown["shared_with"] == []


def test_train_warns_when_a_copy_trains_into_the_same_store(
    trained: Path, tmp_path: Path, home: Path
) -> None:
    copy = tmp_path / "notes2.dlm"
    shutil.copyfile(trained, copy)
    result = runner.invoke(app, ["train", str(copy), "--max-steps", "1", "--json"])
    assert result.exit_code == 0, result.output
    assert _warning(trained.resolve(), copy, home, copy) in result.stderr
    # What the warning is about: the copy's run went into the original's store.
    runs = json.loads(runner.invoke(app, ["show", str(trained), "--json"]).stdout)["store"]["runs"]
    assert [run["run_id"] for run in runs] == [1, 2]


def test_mining_a_copy_records_it_with_the_store(trained: Path, tmp_path: Path, home: Path) -> None:
    from tests.cli.test_mine_cli import _mine

    copy = tmp_path / "notes2.dlm"
    shutil.copyfile(trained, copy)
    mined = _mine(copy)
    assert mined.exit_code in (0, 2), mined.output  # type: ignore[attr-defined]
    stderr, shown = _show(trained)
    assert stderr == _warning(copy.resolve(), trained, home, copy.resolve())
    assert shown["shared_with"] == [str(copy.resolve())]
