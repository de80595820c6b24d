"""Evaluation: held-out prompts answered by adapter versions, scored and compared.

How to read an eval: docs/self-improving-loop.md#checking-held-out-answers-dlm-eval.
"""
