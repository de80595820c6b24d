"""The reward selectors end to end through `dlm preference mine` on the tiny document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_train_cli import write_document

runner = CliRunner()
pytestmark = pytest.mark.slow  # trains the tiny adapter once (~20 s)

PLUGIN = (
    "from trainer.rewards.base import BaseRM\n"
    "class Longer(BaseRM):\n"
    "    def score(self, messages):\n"
    "        return float(len(messages[-1]['content']))\n"
)


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("mine-rewards")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLM_HOME", str(root / "home"))
        patch.chdir(root)
        (root / "mine_rewards.py").write_text(PLUGIN, encoding="utf-8")
        path = write_document(root, tiny_model_dir, max_steps=2)
        assert runner.invoke(app, ["train", str(path)]).exit_code == 0
        yield path


def _mine(path: Path, judge: str, *extra: str) -> Any:
    args = ["preference", "mine", str(path), "--judge", judge, "--samples", "4", "--seed", "0"]
    args += ["--max-new-tokens", "12", "--temp", "1.5", "--replace", "--json", *extra]
    return runner.invoke(app, args)


def _staged(path: Path) -> list[dict[str, Any]]:
    listed = runner.invoke(app, ["preference", "list", str(path), "--json"])
    staged: list[dict[str, Any]] = json.loads(listed.stdout)["staged"]
    return staged


def test_py_plugin_with_cache_and_recorded_threshold(trained: Path) -> None:
    cached = ("--threshold", "0.5", "--judge-cache", str(trained.parent / "judge-cache"))
    first = _mine(trained, "py:mine_rewards:Longer", *cached)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["judge"] == "py:mine_rewards:Longer" and summary["threshold"] == 0.5
    pair = _staged(trained)[0]
    assert pair["threshold"] == 0.5 and pair["judge"] == "py:mine_rewards:Longer"
    assert pair["score_chosen"] == len(pair["chosen"])
    assert (trained.parent / "judge-cache" / "rewards.sqlite").is_file()
    again = _mine(trained, "py:mine_rewards:Longer", *cached)
    assert json.loads(again.stdout)["pairs"] == summary["pairs"]


def test_hf_and_prm_selectors_record_their_threshold(trained: Path, orm_dir: Path) -> None:
    result = _mine(trained, f"hf:{orm_dir}", "--threshold", "-100")
    assert result.exit_code == 0, result.output
    pairs = _staged(trained)
    assert pairs and pairs[0]["threshold"] == -100
    result = _mine(trained, f"prm:{token_prm_dir_of(orm_dir)}?agg=mean&sep=%0A", "--threshold", "0")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["judge"].endswith("?agg=mean&sep=%0A")


def token_prm_dir_of(orm_dir: Path) -> Path:
    """The token PRM built next to the ORM (see conftest)."""
    from tests.rewards.conftest import build_reward_model

    target = orm_dir.parent / "token-prm-e2e"
    if not (target / "config.json").is_file():
        build_reward_model(target, orm_dir, head="token", labels=2)
    return target


def test_ensemble_of_sway_and_a_plugin(trained: Path) -> None:
    spec = trained.parent / "judges.yaml"
    spec.write_text(
        "normalize: group\nmembers:\n  - judge: sway\n    weight: 0.5\n"
        "  - judge: py:mine_rewards:Longer\n    weight: 1.0\n",
        encoding="utf-8",
    )
    result = _mine(trained, f"ensemble:{spec}")
    assert result.exit_code in (0, 2), result.output
    summary = json.loads(result.stdout)
    assert summary["judge"] == f"ensemble:{spec}" and summary["threshold"] == 1.0


def test_reward_without_a_trained_reward_model_is_a_clear_error(trained: Path) -> None:
    result = _mine(trained, "reward")
    assert result.exit_code == 1 and "dlm reward train" in result.output


def test_a_bad_plugin_fails_before_sampling(trained: Path) -> None:
    result = _mine(trained, "py:mine_rewards:Missing")
    assert result.exit_code == 1 and "has no Missing" in result.output
