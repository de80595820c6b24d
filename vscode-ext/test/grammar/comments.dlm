<!-- SYNTAX TEST "source.dlm" "HTML comments: shown as comments, never hiding structure"
Text <!-- a note --> more text.
<!-- ^^^^ comment.block.html.dlm punctuation.definition.comment.begin.dlm
<!--     ^^^^^^^^ comment.block.html.dlm
<!--             ^^^ comment.block.html.dlm punctuation.definition.comment.end.dlm
<!--                ^^^^^^^^^^^ source.dlm - comment.block.html.dlm
::instruction::
### Q
<!-- a comment over
<!-- <---- meta.field.question.dlm comment.block.html.dlm
two lines -->
<!-- <--------- meta.field.question.dlm comment.block.html.dlm
<!--      ^^^ punctuation.definition.comment.end.dlm
<!-- an unclosed comment
<!-- ^^^^^^^^^^^^^^^^^^^ comment.block.html.dlm
### A
<!-- <--- meta.field.answer.dlm punctuation.definition.heading.dlm - comment.block.html.dlm
<!-- unclosed again
::preference::
<!-- <~~---------- meta.section.preference.dlm keyword.control.section.preference.dlm - comment.block.html.dlm
<!-- and again
```
<!-- <--- punctuation.definition.code-block.begin.dlm - comment.block.html.dlm
```
<!-- once more
<!-- dlm-auto-mined: judge_name="x" -->
<!-- ^^^^^^^^^^^^^^ keyword.other.auto-mined.dlm - comment.block.html.dlm
