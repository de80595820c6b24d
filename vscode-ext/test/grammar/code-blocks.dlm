<!-- SYNTAX TEST "source.dlm" "code blocks: nothing inside is structure"
::instruction::
### Q
How do I write an instruction section?
### A
```dlm
<!-- <--- meta.field.answer.dlm markup.fenced_code.block.dlm punctuation.definition.code-block.begin.dlm
<!-- <~~~--- markup.fenced_code.block.dlm fenced_code.block.language.dlm
::instruction::
<!-- <--------------- meta.field.answer.dlm markup.fenced_code.block.dlm markup.raw.block.dlm - meta.fence.dlm
### Q
<!-- <----- markup.raw.block.dlm - markup.heading.question.dlm
<!-- dlm-auto-mined: judge_name="x" -->
<!-- <---- markup.raw.block.dlm - comment.block.auto-mined.dlm comment.block.html.dlm
\```
<!-- <- markup.raw.block.dlm constant.character.escape.dlm
<!-- <~--- markup.raw.block.dlm meta.escaped-line.dlm - punctuation.definition.code-block.end.dlm
  ``` indented is not a toggle
<!-- <~~--- markup.raw.block.dlm - punctuation.definition.code-block.end.dlm
```python
<!-- <--- markup.fenced_code.block.dlm punctuation.definition.code-block.end.dlm
### Q
<!-- <~~~~- meta.field.question.dlm entity.name.section.question.dlm - markup.fenced_code.block.dlm
Q2?
### A
````
<!-- <---- punctuation.definition.code-block.begin.dlm
x = 1
<!-- <----- markup.raw.block.dlm
```
<!-- <--- punctuation.definition.code-block.end.dlm
::preference::
<!-- <~~---------- keyword.control.section.preference.dlm
