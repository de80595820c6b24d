"""Every change to a user's document goes through one checked write path (dlm/writer.py):
an edit saved meanwhile is kept, the file keeps its mode and symlink, the store lock is
held. Each test reproduces a way a user lost data or a file changed under them."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dlmlang
import trainer.mining.plan as plan_module
from dlm.cli import app
from dlm.documents import load_valid_document
from dlm.errors import CliError
from dlm.writer import ATTEMPTS, Change, write_edits
from dlmlang.edits import TextEdit
from tests.cli.test_preference_cli import DLM_ID, TEXT, staged
from tests.cli.test_train_cli import DLM_ID as TRAINED_ID
from trainer.store import Store

__all__ = ["staged"]  # the fixture, shared with the preference tests

runner = CliRunner()
USER_LINE = "A line the user saved while dlm was working.\n"


def append_in_another_process(path: Path, text: str) -> None:
    """A real concurrent writer: another process appends to the document."""
    code = "import sys; open(sys.argv[1], 'a', encoding='utf-8').write(sys.argv[2])"
    subprocess.run([sys.executable, "-c", code, str(path), text], check=True)


def test_apply_keeps_an_edit_saved_while_it_worked(
    staged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_apply_plan = plan_module.apply_plan
    calls: list[int] = []

    def apply_plan_then_user_saves(*args: object, **kwargs: object) -> object:
        result = real_apply_plan(*args, **kwargs)  # type: ignore[arg-type]
        if not calls:  # the user saves between dlm's read and its write
            append_in_another_process(staged, USER_LINE)
        calls.append(1)
        return result

    monkeypatch.setattr(plan_module, "apply_plan", apply_plan_then_user_saves)
    result = runner.invoke(app, ["preference", "apply", str(staged), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["recomputed"] is True and len(calls) == 2
    text = staged.read_text(encoding="utf-8")
    assert text.endswith(USER_LINE)
    document = dlmlang.parse(text)
    assert document.ok and sum(s.auto_mined for s in document.sections) == 1


def test_a_writer_that_never_stops_gets_a_refusal_and_no_write(tmp_path: Path) -> None:
    path = tmp_path / "notes.dlm"
    path.write_text(TEXT, encoding="utf-8")
    loaded = load_valid_document(path)
    end = loaded.document.sections[-1].range.end

    def compute(version: object) -> Change[None]:
        append_in_another_process(path, "more\n")
        return Change([TextEdit(dlmlang.Range(end, end), "dlm's line\n")], None)

    with pytest.raises(CliError, match="kept changing"):
        write_edits(loaded, compute, kept="The plan is kept.")
    assert "dlm's line" not in path.read_text(encoding="utf-8")
    assert path.read_text(encoding="utf-8").count("more\n") == ATTEMPTS
    assert [p.name for p in tmp_path.iterdir()] == ["notes.dlm"]  # no temp file left


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664])
def test_writes_keep_the_mode_and_write_through_a_symlink(staged: Path, mode: int) -> None:
    os.chmod(staged, mode)
    link = staged.parent / "link.dlm"
    link.symlink_to(staged.name)
    original = staged.read_bytes()

    assert runner.invoke(app, ["preference", "apply", str(link)]).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == staged.name
    assert staged.read_bytes() != original  # the target was edited
    assert stat.S_IMODE(staged.stat().st_mode) == mode

    assert runner.invoke(app, ["preference", "revert", str(link)]).exit_code == 0
    assert link.is_symlink() and staged.read_bytes() == original
    assert stat.S_IMODE(staged.stat().st_mode) == mode


def test_revert_purges_exactly_what_it_removed(staged: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["preference", "apply", str(staged)]).exit_code == 0
    mined = next(s for s in dlmlang.parse_bytes(staged.read_bytes()).sections if s.auto_mined)
    store = Store.open(DLM_ID, tmp_path / "home")
    store.replay.record(1, plan_module_replay(staged))

    dry = runner.invoke(app, ["preference", "revert", str(staged), "--dry-run", "--json"])
    assert json.loads(dry.stdout)["sections"] == [mined.section_id]
    assert _replay_ids(store) >= {mined.section_id}  # a dry run changes nothing

    forgot = runner.invoke(
        app, ["preference", "forget", str(staged), "--section", mined.section_id, "--json"]
    )
    assert forgot.exit_code == 0, forgot.output
    assert json.loads(forgot.stdout)["forgotten"] == [mined.section_id]
    assert mined.section_id not in _replay_ids(store)


def plan_module_replay(path: Path) -> list[object]:
    """The document's sections as a run records them in replay."""
    from trainer.store.replay import replay_sections

    document = dlmlang.parse_bytes(path.read_bytes())
    return list(replay_sections(document, list(dlmlang.SectionKind)))  # type: ignore[arg-type]


def _replay_ids(store: Store) -> set[str]:
    rows = store.metrics.connection.execute("SELECT section_id FROM replay").fetchall()
    return {row[0] for row in rows}


@pytest.mark.parametrize("verb", ["apply", "discard"])
def test_store_changes_wait_for_the_store_lock(staged: Path, tmp_path: Path, verb: str) -> None:
    store = Store.open(DLM_ID, tmp_path / "home")
    env = {**os.environ, "DLM_HOME": str(tmp_path / "home")}
    with store.lock():
        process = subprocess.Popen(
            [sys.executable, "-m", "dlm", "preference", verb, str(staged)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        waiting = process.stderr.readline()
        assert "Another dlm run is using the store" in waiting and "Waiting" in waiting
        time.sleep(0.5)
        assert process.poll() is None  # still waiting: nothing was written meanwhile
        assert staged.read_bytes() == TEXT.replace("\n", "\r\n").encode()
    assert process.wait(timeout=60) == 0
    if verb == "discard":
        assert not store.pending_plan_path().exists()
    else:
        assert staged.read_bytes() != TEXT.replace("\n", "\r\n").encode()


def test_the_staged_plan_is_synced_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    plan_module.save_plan(tmp_path / "preference" / "pending.json", plan_module.Plan("sha"))
    assert len(synced) >= 2  # the file, then its directory
    assert json.loads((tmp_path / "preference" / "pending.json").read_text())["pairs"] == []


def test_json_outputs_stay_strict_json_for_scores_near_the_float_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    path = tmp_path / "notes.dlm"
    path.write_text(TEXT, encoding="utf-8")
    pair = plan_module.stage_pair(
        "When does the Tern leave?",
        "At 7:40.",
        "Never.",
        score_chosen=1.7e308,
        score_rejected=-1.7e308,  # the margin overflows to inf
        source_section_id=dlmlang.parse(TEXT).sections[0].section_id,
        judge="cli:judge.py",
        run_id=1,
        mined_at=datetime(2026, 4, 23, 18, 42, 11, tzinfo=UTC),
    )
    store = Store.open(DLM_ID, tmp_path / "home")
    plan_module.save_plan(store.pending_plan_path(), plan_module.merge(None, [pair], "sha"))
    assert runner.invoke(app, ["preference", "apply", str(path)]).exit_code == 0

    listed = runner.invoke(app, ["preference", "list", str(path), "--json"])
    payload = json.loads(listed.stdout, parse_constant=_no_constants)
    assert payload["applied"][0]["margin"] is None
    assert payload["applied"][0]["score_chosen"] == 1.7e308


def _no_constants(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def _mining_judge(tmp_path: Path, appended: str) -> str:
    """A `cli:` judge that, on its first call, saves a line into the document (as the
    user would while mining runs), then scores by length."""
    script = tmp_path / "saving_judge.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, os, sys
            request = json.load(sys.stdin)
            document, appended = sys.argv[1], sys.argv[1] + ".appended"
            if os.path.exists(appended):
                text = open(appended, encoding="utf-8").read()
                os.unlink(appended)
                with open(document, "a", encoding="utf-8") as out:
                    out.write(text)
            print(json.dumps({"score": len(request["candidate"]) / 10}))
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "notes.dlm.appended").write_text(appended, encoding="utf-8")
    return "cli:" + shlex.join([sys.executable, str(script), str(tmp_path / "notes.dlm")])


def _mine_apply(path: Path, judge: str) -> object:
    arguments = ["preference", "mine", str(path), "--judge", judge, "--samples", "4", "--seed", "0"]
    arguments += ["--max-new-tokens", "12", "--temp", "1.5", "--threshold", "0.05"]
    return runner.invoke(app, [*arguments, "--apply", "--json"])


def test_mine_apply_keeps_a_line_saved_while_the_judge_ran(trained: Path, tmp_path: Path) -> None:
    result = _mine_apply(trained, _mining_judge(tmp_path, "\n::prose::\n" + USER_LINE))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert json.loads(result.stdout)["write_mode"] == "applied"  # type: ignore[attr-defined]
    text = trained.read_text(encoding="utf-8")
    assert USER_LINE in text
    document = dlmlang.parse(text)
    assert document.ok and sum(s.auto_mined for s in document.sections) == 1


def test_mine_apply_refuses_a_saved_text_with_errors_and_keeps_the_pairs(
    trained: Path, tmp_path: Path
) -> None:
    broken = "\n::instrution::\n"
    result = _mine_apply(trained, _mining_judge(tmp_path, broken))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "now has errors" in result.output and "stay staged" in result.output  # type: ignore[attr-defined]
    assert trained.read_text(encoding="utf-8").endswith(broken)  # the user's text, untouched
    store = Store.open(TRAINED_ID, tmp_path / "home")
    assert len(plan_module.load_plan(store.pending_plan_path()).pairs) == 1  # type: ignore[union-attr]
    assert [e["write_mode"] for e in store.metrics.mining_events(1)] == ["staged"]


def test_only_regular_files_of_bounded_size_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "pipe.dlm"
    os.mkfifo(fifo)
    big = tmp_path / "big.dlm"
    big.write_text(TEXT, encoding="utf-8")
    monkeypatch.setenv("DLM_MAX_DOCUMENT_BYTES", "40")
    argv = [sys.executable, "-m", "dlm", "check", "--json", str(fifo), "/dev/zero", str(big)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)  # used to hang
    assert done.returncode == 1
    messages = [f["diagnostics"][0]["message"] for f in json.loads(done.stdout)["files"]]
    assert "FIFO (named pipe), not a regular file" in messages[0]
    assert "device, not a regular file" in messages[1]
    assert "larger than the document size limit of 40 bytes" in messages[2]
    assert "DLM_MAX_DOCUMENT_BYTES" in messages[2]


def test_check_escapes_terminal_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "evil.dlm"
    path.write_text(
        f"---\ndlm_id: {DLM_ID}\nbase_model: x\n---\n::instruction::\n"
        "ti\x1b]0;owned\x07tle\u202e\n### Q\nq\n### A\na\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\u202e" not in result.output
    assert "ti\\x1b]0;owned\\x07tle\\u202e" in result.output


def test_python_m_dlm_never_imports_from_the_working_directory(tmp_path: Path) -> None:
    ran = tmp_path / "planted-module-ran"
    (tmp_path / "typer.py").write_text(f"open({str(ran)!r}, 'w').close()\n", encoding="utf-8")
    path = tmp_path / "notes.dlm"
    path.write_text(TEXT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "dlm", "check", path.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert not ran.exists()
