"""`cli:<command>`: an external program scores each candidate (spec §8).

The command is split like a shell would and run without a shell, once per
candidate, with `{"prompt": ..., "candidate": ...}` on stdin; it prints
`{"score": <finite number>, "reasoning": <optional string>}` on stdout.
Every way of breaking that contract stops the run with a message saying which.
"""

from __future__ import annotations

import json
import math
import shlex
import shutil
import subprocess
from collections.abc import Sequence

from trainer.judges.base import JudgeError, JudgeItem, Judgement
from trainer.rewards.scale import Scale

DEFAULT_TIMEOUT_S = 30.0
_STDERR_TAIL = 500


class CliJudge:
    """A judge that runs a local command per candidate."""

    default_threshold = 0.1
    scale = Scale("cli", 0.1)

    def __init__(self, command: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        try:
            self._argv = shlex.split(command)
        except ValueError as error:
            raise JudgeError(f"cli:{command}: cannot split the command ({error}).") from None
        if not self._argv:
            raise JudgeError("cli: needs a command, e.g. `cli:python judge.py`.")
        self._command = command
        self._timeout = timeout

    @property
    def name(self) -> str:
        """`cli:` and the command as given."""
        return f"cli:{self._command}"

    def load(self) -> None:
        """Fail now if the program does not exist."""
        if shutil.which(self._argv[0]) is None:
            raise JudgeError(
                f"{self.name}: `{self._argv[0]}` was not found (not on PATH and not a path to "
                "an executable). Give the full path, e.g. `cli:/usr/bin/python3 judge.py`."
            )

    def score(self, items: Sequence[JudgeItem]) -> list[Judgement]:
        """Run the command once per item; any broken answer stops everything."""
        return [self._score_one(item) for item in items]

    def close(self) -> None:
        """Nothing to release."""

    def _score_one(self, item: JudgeItem) -> Judgement:
        request = json.dumps({"prompt": item.prompt, "candidate": item.candidate})
        try:
            done = subprocess.run(
                self._argv,
                input=request,
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=False,
            )
        except FileNotFoundError:
            raise JudgeError(f"{self.name}: `{self._argv[0]}` was not found.") from None
        except subprocess.TimeoutExpired:
            raise JudgeError(
                f"{self.name}: no answer within {self._timeout:g} s; make the judge faster or "
                "raise --judge-timeout."
            ) from None
        if done.returncode != 0:
            tail = done.stderr.strip()[-_STDERR_TAIL:] or "(nothing on stderr)"
            raise JudgeError(f"{self.name}: exited with status {done.returncode}: {tail}")
        return _parse_answer(self.name, done.stdout)


def _parse_answer(name: str, stdout: str) -> Judgement:
    text = stdout.strip()
    if not text:
        raise JudgeError(f'{name}: printed nothing; it must print {{"score": <number>}}.')
    try:
        answer = json.loads(text)
    except json.JSONDecodeError as error:
        raise JudgeError(
            f"{name}: printed something that is not JSON ({error}): {text[:200]}"
        ) from None
    if not isinstance(answer, dict):
        raise JudgeError(f"{name}: printed JSON that is not an object: {text[:200]}")
    if "score" not in answer:
        raise JudgeError(f'{name}: the answer has no "score": {text[:200]}')
    score = answer["score"]
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise JudgeError(f'{name}: "score" must be a number, not {score!r}.')
    if not math.isfinite(score):
        raise JudgeError(f'{name}: "score" must be finite, not {score!r}.')
    reasoning = answer.get("reasoning")
    if reasoning is not None and not isinstance(reasoning, str):
        raise JudgeError(f'{name}: "reasoning" must be a string when given.')
    return Judgement(float(score), reasoning)
