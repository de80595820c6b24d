"""Synthesized instructions: question/answer pairs a teacher writes from the prose sections.

`prompts` asks the teacher, `parse` reads its answers, `teachers` are the models that
answer (`self`, `hf:<model>`, `api:<model>`), `filters` drop duplicates and answers the
source prose does not support, `plan` stages and applies them as marked instruction
sections, and `document` is the use case behind `dlm synth instructions`.
"""
