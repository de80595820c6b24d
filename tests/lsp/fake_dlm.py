"""A stand-in for `dlm` as the language server runs it (its `dlmCommand`).

Run as `python fake_dlm.py LOG BEHAVIOUR DLM-ARGUMENTS...`: it appends one JSON line
to LOG (its pid, the arguments, the import path and two environment variables), then
answers as `dlm` would. BEHAVIOUR is `answer` (quick JSON answers: `show` says the
adapter is v0003, `prompt` answers "Fake: QUESTION", `synth instructions` stages one
pair; `preference mine` floods stdout with over a megabyte of JSON while it reports
progress on stderr),
`locked` (the same, but `preference forget` fails as on a busy store) or `sleep`
(starts a grandchild that sleeps, records its pid, and sleeps itself).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> None:
    log, behaviour, arguments = sys.argv[1], sys.argv[2], sys.argv[3:]
    record = {
        "pid": os.getpid(),
        "arguments": arguments,
        "path": sys.path[:3],
        "PYTHONSAFEPATH": os.environ.get("PYTHONSAFEPATH"),
        "DLM_SAFEPATH_ADDED": os.environ.get("DLM_SAFEPATH_ADDED"),
    }
    if behaviour == "sleep":
        sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        record["grandchild"] = sleeper.pid
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    if behaviour == "sleep":
        time.sleep(300)
        return
    answer(arguments, behaviour)


def answer(arguments: list[str], behaviour: str) -> None:
    """What `dlm show|prompt|preference <verb> ... --json` prints, in the shape the
    server reads."""
    if arguments[:1] == ["show"]:
        print(json.dumps({"schema_version": 1, "store": {"current": "v0003"}}))
        return
    if arguments[:1] == ["prompt"]:
        answer = {
            "schema_version": 1,
            "adapter_version": "v0003",
            "answer": f"Fake: {arguments[-1]}",
        }
        print(json.dumps(answer))
        return
    verb = arguments[1] if len(arguments) > 1 else ""
    path = arguments[2] if len(arguments) > 2 else ""
    if verb == "list":
        print(json.dumps({"schema_version": 1, "applied": [], "staged": []}))
    elif verb in ("apply", "revert"):
        edit = {
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}},
            "new_text": "",
        }
        payload = {"schema_version": 1, "path": path, "edits": [edit]}
        if verb == "revert":
            payload["sections"] = ["0123456789abcdef", "fedcba9876543210"]
        print(json.dumps(payload))
    elif verb == "forget" and behaviour == "locked":
        print("Error: the store is locked.", file=sys.stderr)
        sys.exit(1)
    elif verb == "forget":
        ids = [arguments[i + 1] for i, a in enumerate(arguments) if a == "--section"]
        print(json.dumps({"schema_version": 1, "path": path, "forgotten": ids}))
    elif verb == "instructions":  # `synth instructions`: progress, then one pair staged
        for done in range(1, 3):
            event = {"stage": "synthesize", "done": done, "total": 2}
            print(json.dumps(event), file=sys.stderr, flush=True)
        print(json.dumps({"schema_version": 1, "pairs_synthesized": 1, "dropped": {}}))
    elif verb == "mine":
        for done in range(1, 4):
            event = {"stage": "sample", "done": done, "total": 3}
            print(json.dumps(event), file=sys.stderr, flush=True)
        padding = ["x" * 1000] * 1100  # over a megabyte: far more than a pipe holds
        summary = {"schema_version": 1, "pairs_mined": 0, "padding": padding}
        sys.stdout.write(json.dumps(summary))
        sys.stdout.flush()
        print(json.dumps({"stage": "done", "done": 3, "total": 3}), file=sys.stderr)
    else:
        print(f"fake dlm: no answer for {arguments}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
