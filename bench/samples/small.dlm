---
dlm_id: 01JQ7Z0000000000000000000A
dlm_version: 15
base_model: smollm2-135m
---

A short note the benchmark checks whole-process start-up time with.

::instruction::
### Q
What does `dlm check` print for a valid file?
### A
A one-line summary, and exit code 0.
