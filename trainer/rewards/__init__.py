"""Judges: every way to score an answer, behind one protocol, `BaseRM` (docs/judges.md).

`base` holds the protocol, `selector` turns a `--judge` value into a judge and
`settings` loads it for mining and best-of-N. The judges: `sway` (the adapter itself),
`command` (`cli:`), `outcome` and `process` (`hf:`, `prm:`, `reward`), `ensemble`,
`custom` (`py:`), `llm_judge` (`api:`); around them `cache` and `wrappers`.
Import from the submodules: this package imports nothing heavy.
"""
