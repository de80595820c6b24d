<!-- SYNTAX TEST "source.dlm" "instruction sections: ### Q and ### A headers and their fields"
::instruction::
Text before the first question.
<!-- <---- meta.section.instruction.dlm - meta.field.question.dlm
### Q
<!-- <--- meta.field.question.dlm markup.heading.question.dlm punctuation.definition.heading.dlm
<!-- <~~~~- meta.field.question.dlm markup.heading.question.dlm entity.name.section.question.dlm
What does LoRA train?
<!-- <--------------------- meta.section.instruction.dlm meta.field.question.dlm

### Prompt
<!-- <---------- meta.field.question.dlm - markup.heading.prompt.dlm
### Q what is it
<!-- <---------------- meta.field.question.dlm - markup.heading.question.dlm
  ### A	
<!-- <~~--- meta.field.answer.dlm markup.heading.answer.dlm punctuation.definition.heading.dlm - meta.field.question.dlm
<!--  ^ meta.field.answer.dlm entity.name.section.answer.dlm
A small low-rank update.
<!-- <------- meta.section.instruction.dlm meta.field.answer.dlm
###  Q
<!-- <------ meta.field.answer.dlm - markup.heading.question.dlm
### q
<!-- <----- meta.field.answer.dlm - markup.heading.question.dlm
### Q
<!-- <~~~~- meta.field.question.dlm entity.name.section.question.dlm - meta.field.answer.dlm
Second question?
### A
Second answer.
::prose::
<!-- <~~----- meta.section.prose.dlm - meta.field.answer.dlm meta.section.instruction.dlm
