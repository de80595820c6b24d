"""A `cli:` judge for the tests; its first argument picks how it behaves."""

import json
import sys
import time

mode = sys.argv[1]
request = json.load(sys.stdin)
if mode in ("ok", "logged"):
    if mode == "logged":  # one line per call, to count the scorings
        with open(sys.argv[2], "a", encoding="utf-8") as log:
            log.write(json.dumps(request["candidate"]) + "\n")
    score = len(request["candidate"]) / 10
    print(json.dumps({"score": score, "reasoning": f"{len(request['candidate'])} characters"}))
elif mode == "exit":
    print("model file missing", file=sys.stderr)
    sys.exit(3)
elif mode == "slow":
    time.sleep(10)
elif mode == "empty":
    pass
elif mode == "text":
    print("the answer is good")
elif mode == "list":
    print("[1, 2]")
elif mode == "noscore":
    print('{"reasoning": "fine"}')
elif mode == "bool":
    print('{"score": true}')
elif mode == "nan":
    print('{"score": NaN}')
elif mode == "string":
    print('{"score": "0.5"}')
