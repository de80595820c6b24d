"""The `cli:` judge's process: its own group, killed whole, a scrubbed environment, a safe name."""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from trainer.rewards.base import JudgeError, conversation
from trainer.rewards.command import CliRM, judge_environment

HOSTILE = Path(__file__).parent / "scripts" / "hostile_judge.py"
ITEM = conversation("Who keeps the light?", "Morwenna.")
PYTHON = os.path.basename(sys.executable)


def hostile(*args: str, timeout: float = 10.0, **options: object) -> CliRM:
    """A judge running the contract-breaking script with `args` (its mode first)."""
    command = shlex.join([sys.executable, str(HOSTILE), *args])
    return CliRM(command, timeout=timeout, **options)  # type: ignore[arg-type]


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone_soon(pid: int, within: float = 3.0) -> bool:
    """Whether `pid` ends within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def pid_file(tmp_path: Path) -> Iterator[Path]:
    """Where the judge writes its background child's pid; that child is killed afterwards."""
    path = tmp_path / "child.pid"
    yield path
    if path.exists() and alive(int(path.read_text())):
        os.kill(int(path.read_text()), signal.SIGKILL)


def score_within(subject: CliRM, seconds: float) -> float | BaseException:
    """The judge's score (or error), failing the test if it takes longer than `seconds`."""
    outcome: list[float | BaseException] = []

    def run() -> None:
        try:
            outcome.append(subject.score(ITEM))
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"the judge call still hangs after {seconds} s"
    return outcome[0]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("mode", ["grandchild", "holder"])
def test_timeout_kills_the_judges_children_too(mode: str, pid_file: Path) -> None:
    outcome = score_within(hostile(mode, str(pid_file), timeout=3.0), 20.0)
    assert isinstance(outcome, JudgeError) and "no answer within 3 s" in str(outcome)
    assert gone_soon(int(pid_file.read_text()))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_child_holding_stdout_does_not_delay_the_answer(pid_file: Path) -> None:
    outcome = score_within(hostile("answer-and-leave", str(pid_file), timeout=30.0), 15.0)
    assert outcome == 0.5
    assert gone_soon(int(pid_file.read_text()))


def test_output_over_the_limit_kills_the_judge() -> None:
    with pytest.raises(JudgeError, match="--judge-max-output"):
        hostile("flood", timeout=30.0, max_output=1024).score(ITEM)


SECRETS = {
    "DLM_JUDGE_API_KEY": "sk-judge",
    "HF_TOKEN": "hf_1",
    "HUGGING_FACE_HUB_TOKEN": "hf_2",
    "HF_HUB_TOKEN": "hf_3",
    "HF_API_TOKEN": "hf_4",
    "DLM_STORE_PASSWORD": "p",
    "DLM_S3_SECRET": "s",
    "HF_ACCESS_KEY_ID": "k",
    "HUGGING_FACE_CREDENTIALS": "c",
    "hf_token": "lower case counts too",
}
KEPT = {"DLM_HOME": "/tmp/h", "HF_HOME": "/tmp/hf", "HF_HUB_OFFLINE": "1", "MY_TOKEN": "mine"}


def seen_by_judge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: object) -> dict:  # type: ignore[type-arg]
    for name, value in {**SECRETS, **KEPT}.items():
        monkeypatch.setenv(name, value)
    report = tmp_path / "env.json"
    assert hostile("env", str(report), **options).score(ITEM) == 1.0
    seen: dict = json.loads(report.read_text())  # type: ignore[type-arg]
    return seen


def test_the_judge_does_not_see_dlms_or_the_hubs_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = seen_by_judge(tmp_path, monkeypatch)
    assert not set(SECRETS) & set(seen["names"])
    assert set(KEPT) <= set(seen["names"]) and "PATH" in seen["names"]


def test_judge_env_passes_one_variable_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = seen_by_judge(tmp_path, monkeypatch, keep_env=("HF_TOKEN",))
    assert set(SECRETS) & set(seen["names"]) == {"HF_TOKEN"}


def test_dlms_own_safe_path_is_not_passed_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONSAFEPATH", "1")
    monkeypatch.setenv("DLM_SAFEPATH_ADDED", "1")
    seen = seen_by_judge(tmp_path, monkeypatch)
    assert not seen["safe_path"]
    assert not {"PYTHONSAFEPATH", "DLM_SAFEPATH_ADDED"} & set(seen["names"])


def test_a_users_own_safe_path_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONSAFEPATH", "1")
    monkeypatch.delenv("DLM_SAFEPATH_ADDED", raising=False)
    seen = seen_by_judge(tmp_path, monkeypatch)
    assert seen["safe_path"] and "PYTHONSAFEPATH" in seen["names"]


def test_environment_rule() -> None:
    environ = {"DLM_SAFEPATH_ADDED": "0", "PYTHONSAFEPATH": "1", "DLM_TOKENIZER": "x", "A": "b"}
    assert judge_environment(environ, ()) == {"PYTHONSAFEPATH": "1", "A": "b"}
    assert judge_environment({"HF_TOKEN": "t"}, ("HF_TOKEN", "ABSENT")) == {"HF_TOKEN": "t"}


def test_the_name_keeps_the_program_and_script_but_no_arguments(tmp_path: Path) -> None:
    config = tmp_path / "rubric.txt"
    config.write_text("be kind", encoding="utf-8")
    command = shlex.join(
        [sys.executable, str(HOSTILE), "raw", '{"score": 1}', "--api-key", "sk-secret", str(config)]
    )
    subject = CliRM(command)
    subject.load()
    assert subject.name == f"cli:{PYTHON} hostile_judge.py rubric.txt"
    assert "sk-secret" not in json.dumps(subject.name)
    assert CliRM(command, record_command=True).name == f"cli:{command}"


def test_the_cache_fingerprint_still_tells_command_lines_apart() -> None:
    one = CliRM(shlex.join([sys.executable, str(HOSTILE), "raw", '{"score": 1}']))
    two = CliRM(shlex.join([sys.executable, str(HOSTILE), "raw", '{"score": 2}']))
    assert one.name == two.name
    assert one.fingerprint() != two.fingerprint()


def test_a_cached_cli_judge_scores_each_command_line_on_its_own(tmp_path: Path) -> None:
    from trainer.rewards.settings import JudgeSettings, load_judge

    def cached(score: int) -> float:
        selector = "cli:" + shlex.join(
            [sys.executable, str(HOSTILE), "raw", f'{{"score": {score}}}']
        )
        judge = load_judge(
            JudgeSettings(selector, cache=tmp_path / "cache"),
            model=None,
            tokenizer=None,
            system_prompt=None,
            store_root=tmp_path / "store",
        )
        return judge.score(ITEM)

    assert [cached(1), cached(2), cached(1)] == [1.0, 2.0, 1.0]


def test_a_long_request_is_fed_whole_and_a_judge_may_leave_it_unread() -> None:
    long_item = conversation("Who?", "x" * 1_000_000)  # far more than a pipe holds
    reader = CliRM(shlex.join([sys.executable, str(HOSTILE.parent / "judge.py"), "ok"]))
    [detail] = reader.score_batch_details([long_item])
    assert (detail.score, detail.reasoning) == (100_000.0, "1000000 characters")
    skipper = CliRM(shlex.join([sys.executable, "-c", "print('{\"score\": 2}')"]))
    assert skipper.score(long_item) == 2.0
