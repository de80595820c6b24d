<!-- SYNTAX TEST "source.dlm" "escaped structural lines: one backslash is the escape"
\::instruction::
<!-- <- meta.escaped-line.dlm constant.character.escape.dlm
<!-- <~--------------- meta.escaped-line.dlm - meta.fence.dlm meta.section.instruction.dlm
\\::prose::
<!-- <- constant.character.escape.dlm
<!-- <~---------- meta.escaped-line.dlm - constant.character.escape.dlm
\```
<!-- <- constant.character.escape.dlm
<!-- <~--- meta.escaped-line.dlm - markup.fenced_code.block.dlm
\<!-- dlm-auto-mined: judge_name="x" -->
<!-- <- constant.character.escape.dlm
<!-- <~------------------- meta.escaped-line.dlm - comment.block.auto-mined.dlm comment.block.html.dlm
\hello
<!-- <------ source.dlm - constant.character.escape.dlm
::instruction::
### Q
\### A
<!-- <- meta.field.question.dlm meta.escaped-line.dlm constant.character.escape.dlm
<!-- <~----- meta.field.question.dlm - markup.heading.answer.dlm
\### Prompt
<!-- <----------- meta.field.question.dlm - constant.character.escape.dlm
### A
\::preference::
<!-- <- meta.field.answer.dlm constant.character.escape.dlm
::preference::
### Prompt
\### Rejected
<!-- <- meta.field.prompt.dlm constant.character.escape.dlm
<!-- <~------------ meta.field.prompt.dlm - markup.heading.rejected.dlm
\### Q
<!-- <------ meta.field.prompt.dlm - constant.character.escape.dlm
::prose::
\### Q
<!-- <------ meta.section.prose.dlm - constant.character.escape.dlm
