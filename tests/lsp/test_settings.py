"""The server's settings become `dlm preference mine` flags, the api: judge's included."""

from __future__ import annotations

from lsp.server import Settings


def test_the_api_judges_url_and_rubric_reach_the_miner() -> None:
    settings = Settings.from_options(
        {
            "dlm": {
                "judge": "api:qwen",
                "judgeUrl": " http://127.0.0.1:8080/v1 ",
                "rubric": "/home/me/rubric.yaml",
                "samples": 6,
            }
        }
    )
    assert settings.mine_arguments() == [
        "--judge", "api:qwen", "--samples", "6",
        "--judge-url", "http://127.0.0.1:8080/v1", "--rubric", "/home/me/rubric.yaml",
    ]  # fmt: skip
    cleared = Settings.from_options({"judgeUrl": "", "rubric": None}, settings)
    assert (cleared.judge_url, cleared.rubric) == (None, None)
    kept = Settings.from_options({"samples": 4}, settings)
    assert kept.judge_url == "http://127.0.0.1:8080/v1"  # absent keys keep their values
