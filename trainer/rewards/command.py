"""`cli:<command>`: an external program scores each candidate (docs/judges.md).

The command is split like a shell would and run without a shell, once per answer,
with `{"prompt": <the question>, "candidate": <the answer>}` on stdin; it prints
`{"score": <finite number>, "reasoning": <optional string>}` on stdout. Each call runs
in a session (process group) of its own and an environment without dlm's or the hub's
secrets; its stdout is read as it comes, up to a limit, and whatever is left of the
group is killed when the call ends. Every way of breaking the contract stops the run
with a message saying which.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trainer.rewards.base import (
    DEFAULT_MAX_OUTPUT,
    DetailedRM,
    JudgeError,
    Messages,
    RewardDetails,
    question_and_answer,
)
from trainer.rewards.scale import Scale

DEFAULT_TIMEOUT_S = 30.0
WITHHELD = (
    "DLM_JUDGE_API_KEY",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_HUB_TOKEN",
    "HF_API_TOKEN",
)
"""Variables a `cli:` judge never sees unless `--judge-env` names them."""
SECRET_PREFIXES = ("DLM_", "HF_", "HUGGING_FACE_")
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")
"""A variable with one of these prefixes and one of these words is withheld too."""

_CONTRACT = 'Print one JSON object on stdout, e.g. {"score": 0.5, "reasoning": "why"}.'
_STDERR_TAIL = 500
_CHUNK = 65536
_POLL_S = 0.05


class CliRM(DetailedRM):
    """A judge that runs a local command per answer."""

    scale = Scale("cli", 0.1)

    def __init__(
        self,
        command: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_output: int = DEFAULT_MAX_OUTPUT,
        keep_env: Collection[str] = (),
        record_command: bool = False,
    ) -> None:
        try:
            self._argv = shlex.split(command)
        except ValueError as error:
            # The command as given may hold a secret; the error shows only what is wrong.
            raise JudgeError(f"cli: cannot split the command ({error}).") from None
        if not self._argv:
            raise JudgeError("cli: needs a command, e.g. `cli:python judge.py`.")
        self._timeout = timeout
        self._max_output = max_output
        self._keep_env = frozenset(keep_env)
        self._name = f"cli:{command}" if record_command else public_name(self._argv)

    @property
    def name(self) -> str:
        """`cli:` and the base names of the program and of its arguments that are files."""
        return self._name

    def fingerprint(self) -> dict[str, str]:
        """The whole command line, for the score cache's key only (it may hold secrets)."""
        return {"selector": self.name, "scale": self.scale.name, "argv": json.dumps(self._argv)}

    def load(self) -> None:
        """Fail now if the program does not exist."""
        if shutil.which(self._argv[0]) is None:
            raise JudgeError(
                f"{self.name}: `{self._argv[0]}` was not found (not on PATH and not a path to "
                "an executable). Give the full path, e.g. `cli:/usr/bin/python3 judge.py`."
            )

    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        """Run the command once per conversation; any broken answer stops everything."""
        details = []
        for messages in batch:
            score, reasoning = self._score_one(*question_and_answer(messages))
            details.append(RewardDetails(score, self.scale.to_common(score), reasoning=reasoning))
        return details

    def _score_one(self, question: str, answer: str) -> tuple[float, str | None]:
        request = json.dumps({"prompt": question, "candidate": answer})
        environment = judge_environment(os.environ, self._keep_env)
        deadline = time.monotonic() + self._timeout
        call = _run(
            self.name, self._argv, request.encode(), environment, deadline, self._max_output
        )
        if call.problem == "timeout":
            raise JudgeError(
                f"{self.name}: no answer within {self._timeout:g} s, so it was killed with its "
                "process group; make the judge faster or raise --judge-timeout."
            )
        if call.problem == "output":
            raise JudgeError(
                f"{self.name}: printed more than {self._max_output} bytes, so it was killed "
                f"with its process group. {_CONTRACT} If the judge really needs more, raise "
                "--judge-max-output."
            )
        if call.returncode != 0:
            tail = call.stderr.decode("utf-8", "replace").strip()[-_STDERR_TAIL:]
            raise JudgeError(
                f"{self.name}: exited with status {call.returncode}: "
                f"{tail or '(nothing on stderr)'}"
            )
        return parse_answer(self.name, call.stdout)


def public_name(argv: Sequence[str]) -> str:
    """`cli:` and the base names of the program and of the arguments that are existing files."""
    files = [os.path.basename(arg) for arg in argv[1:] if os.path.isfile(arg)]
    return "cli:" + " ".join([os.path.basename(argv[0]), *files])


def judge_environment(environ: Mapping[str, str], keep: Collection[str]) -> dict[str, str]:
    """`environ` without dlm's and the hub's secrets (docs/judges.md); `keep` names pass anyway."""
    ours = environ.get("DLM_SAFEPATH_ADDED") == "1"
    return {
        name: value
        for name, value in environ.items()
        if name in keep or not _withheld(name, safepath_is_ours=ours)
    }


def parse_answer(name: str, stdout: bytes) -> tuple[float, str | None]:
    """(score, reasoning) as a judge printed them; JudgeError saying what is wrong otherwise."""
    try:
        text = stdout.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise _broken(name, "printed bytes that are not UTF-8") from None
    if not text:
        raise _broken(name, "printed nothing")
    answer = _decode(name, text)
    if not isinstance(answer, dict):
        raise _broken(name, f"printed JSON that is not an object: {_cut(text)}")
    if "score" not in answer:
        raise _broken(name, f'the answer has no "score": {_cut(text)}')
    score = answer["score"]
    if isinstance(score, bool) or not isinstance(score, float):
        raise _broken(name, f'"score" must be a number, not {_cut(repr(score))}')
    reasoning = answer.get("reasoning")
    if reasoning is not None and not isinstance(reasoning, str):
        raise _broken(name, '"reasoning" must be a string when given')
    return score, reasoning


class _RejectedError(ValueError):
    """Valid-looking JSON that a judge's answer may not hold."""


@dataclass(frozen=True, slots=True)
class _Call:
    """How one run of the command went."""

    returncode: int
    stdout: bytes
    stderr: bytes
    """The last few kilobytes only."""
    problem: str | None
    """`timeout` or `output` (too much) when the call was cut short."""


def _run(
    name: str,
    argv: list[str],
    request: bytes,
    env: dict[str, str],
    deadline: float,
    max_output: int,
) -> _Call:
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except OSError as error:
        raise JudgeError(f"{name}: cannot run `{argv[0]}` ({error.strerror}).") from None
    try:
        stdout, stderr, problem = _exchange(process, request, deadline, max_output)
    finally:
        # The judge is not reaped yet, so its group id cannot have been reused.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    return _Call(process.returncode, stdout, stderr, problem)


def _exchange(
    process: subprocess.Popen[bytes], request: bytes, deadline: float, max_output: int
) -> tuple[bytes, bytes, str | None]:
    """Feed stdin and read stdout and stderr until the judge ends, runs out of time or floods."""
    assert process.stdin and process.stdout and process.stderr
    out, err = bytearray(), bytearray()
    pending = memoryview(request)
    os.set_blocking(process.stdin.fileno(), False)
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdin, selectors.EVENT_WRITE)
        selector.register(process.stdout, selectors.EVENT_READ, out)
        selector.register(process.stderr, selectors.EVENT_READ, err)
        while True:
            exited = _has_exited(process)
            if exited and not selector.get_map():
                break
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(out), bytes(err), "timeout"
            if not selector.get_map():
                time.sleep(min(left, _POLL_S / 5))
                continue
            events = selector.select(0 if exited else min(left, _POLL_S))
            if exited and not events:
                break  # what still holds the pipes is a background child; the answer is in
            for key, _ in events:
                if key.fileobj is process.stdin:
                    pending = _feed(selector, process.stdin, pending)
                    continue
                _drain(selector, key)
                if len(out) > max_output:
                    return bytes(out), bytes(err), "output"
                del err[: -_STDERR_TAIL * 8]  # a chatty stderr is kept to its tail
    return bytes(out), bytes(err), None


def _feed(selector: selectors.BaseSelector, stdin: Any, pending: memoryview) -> memoryview:
    """Write what stdin takes now; close it when all is written or the judge stops reading."""
    try:
        written = os.write(stdin.fileno(), pending[:_CHUNK])
    except BlockingIOError:
        return pending
    except (BrokenPipeError, ConnectionResetError):
        written = len(pending)
    pending = pending[written:]
    if not pending:
        selector.unregister(stdin)
        stdin.close()
    return pending


def _drain(selector: selectors.BaseSelector, key: selectors.SelectorKey) -> None:
    """Append what the pipe holds to its buffer; unregister it at end of file."""
    chunk = os.read(key.fd, _CHUNK)
    if chunk:
        key.data.extend(chunk)
    else:
        selector.unregister(key.fileobj)


def _has_exited(process: subprocess.Popen[bytes]) -> bool:
    """Whether the judge has ended, left unreaped so its process group id stays reserved."""
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _withheld(name: str, *, safepath_is_ours: bool) -> bool:
    upper = name.upper()
    if upper in WITHHELD or upper == "DLM_SAFEPATH_ADDED":
        return True
    if upper == "PYTHONSAFEPATH":
        return safepath_is_ours  # dlm sets it for its own children; a judge gets a normal path
    return upper.startswith(SECRET_PREFIXES) and any(word in upper for word in SECRET_WORDS)


def _decode(name: str, text: str) -> Any:
    try:
        return json.loads(
            text,
            parse_int=_finite,
            parse_float=_finite,
            parse_constant=_no_constant,
            object_pairs_hook=_unique_keys,
        )
    except _RejectedError as problem:
        raise _broken(name, str(problem)) from None
    except json.JSONDecodeError as error:
        raise _broken(name, f"printed something that is not JSON ({error}): {_cut(text)}") from None
    except RecursionError:
        raise _broken(name, "printed JSON nested too deeply to read") from None


def _finite(text: str) -> float:
    """A JSON number as a float; one outside the float range is refused, not made infinite."""
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise _RejectedError(f"the number {_cut(text, 10)} is outside the range of a float")
    return number


def _no_constant(text: str) -> float:
    raise _RejectedError(
        f'the answer holds {text}, which is not a JSON number ("score" must be finite)'
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for key, value in pairs:
        if key in answer:
            raise _RejectedError(f'the answer gives "{_cut(key, 40)}" twice')
        answer[key] = value
    return answer


def _broken(name: str, what: str) -> JudgeError:
    return JudgeError(f"{name}: {what}. {_CONTRACT}")


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
