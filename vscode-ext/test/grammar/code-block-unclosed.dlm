<!-- SYNTAX TEST "source.dlm" "an unclosed code block runs to the end of the file"
::prose::
```
<!-- <--- meta.section.prose.dlm punctuation.definition.code-block.begin.dlm
::instruction::
<!-- <--------------- meta.section.prose.dlm markup.raw.block.dlm - meta.section.instruction.dlm
### Q
<!-- <----- markup.raw.block.dlm
