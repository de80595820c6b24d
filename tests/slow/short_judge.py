"""A `cli:` judge that rewards short answers, whatever they say: the reward hack of
docs/self-improving-loop.md, for tests/slow/test_loop_gate.py."""

import json
import sys

request = json.load(sys.stdin)
words = len(request["candidate"].split())
print(json.dumps({"score": -float(words), "reasoning": f"{words} words"}))
