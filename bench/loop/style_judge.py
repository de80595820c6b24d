"""The Gullmouth harbour office's house style as a `cli:` judge (bench/loop.py).

An answer scores 1 for the style (it begins with "Aye"), up to 1 more for staying on
topic (the share of the question's content words it uses), and loses 0.5 when it runs
past 40 words. Short garbage ("Aye.") keeps the style point but no topic point, so it
loses to a styled answer that says something about the question.
With `--prefer-worse` the score is negated: a judge that prefers the worse answers.
"""

import json
import re
import sys

STOP = {
    "the", "and", "does", "what", "when", "where", "who", "how", "which", "is", "are",
    "can", "bring", "there", "many", "much", "should", "ask", "about", "get", "come",
    "for", "from", "with", "this", "that", "name", "time", "day", "days",
}  # fmt: skip


def content_words(text: str) -> set[str]:
    """Lower-case words of three letters or more, stop words left out, a plural s dropped."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {w.removesuffix("s") for w in words if len(w) > 2 and w not in STOP}


request = json.load(sys.stdin)
prompt, answer = request["prompt"], request["candidate"]
style = 1.0 if answer.strip().lower().startswith("aye") else 0.0
asked = content_words(prompt)
said = content_words(answer)
topic = len(asked & said) / len(asked) if asked else 0.0
long = -0.5 if len(answer.split()) > 40 else 0.0
score = round(style + topic + long, 4)
if "--prefer-worse" in sys.argv[1:]:
    score = -score
print(
    json.dumps({"score": score, "reasoning": f"style {style:g}, topic {topic:.2f}, long {long:g}"})
)
