"""A `cli:` judge that breaks the contract on purpose; its first argument picks how."""

import json
import os
import subprocess
import sys
import time

mode, args = sys.argv[1], sys.argv[2:]
sys.stdin.read()


def sleeper(pid_file: str, **streams: int) -> None:
    """Start a long `sleep` in the background and write its pid to `pid_file`."""
    child = subprocess.Popen(["sleep", "300"], **streams)
    with open(pid_file, "w", encoding="utf-8") as out:
        out.write(str(child.pid))


if mode == "raw":  # print the first argument as the answer
    print(args[0])
elif mode == "digits":  # a score of this many digits
    print('{"score": ' + "1" * int(args[0]) + "}")
elif mode == "deep":  # this many nested arrays
    print("[" * int(args[0]) + "]" * int(args[0]))
elif mode == "reasoning":  # a reasoning of this many characters
    print(json.dumps({"score": 1, "reasoning": "x" * int(args[0])}))
elif mode == "flood":  # print forever
    chunk = "x" * 65536
    while True:
        sys.stdout.write(chunk)
elif mode == "grandchild":  # a child with its own stdout, then hang
    sleeper(args[0], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(300)
elif mode == "holder":  # a child that shares our stdout, then hang
    sleeper(args[0])
    time.sleep(300)
elif mode == "answer-and-leave":  # a child that shares our stdout, then answer and exit
    sleeper(args[0])
    print('{"score": 0.5}', flush=True)
elif mode == "env":  # write what we see to the file, then answer
    seen = {"names": sorted(os.environ), "safe_path": bool(sys.flags.safe_path)}
    with open(args[0], "w", encoding="utf-8") as out:
        json.dump(seen, out)
    print('{"score": 1}')
