<!-- SYNTAX TEST "source.dlm" "preference sections: ### Prompt, ### Chosen and ### Rejected headers and their fields"
::preference::
### Prompt
<!-- <--- meta.section.preference.dlm meta.field.prompt.dlm markup.heading.prompt.dlm punctuation.definition.heading.dlm
<!-- <~~~~------ meta.field.prompt.dlm entity.name.section.prompt.dlm
Say thanks for a bug report.
<!-- <---------- meta.section.preference.dlm meta.field.prompt.dlm
### Q
<!-- <----- meta.field.prompt.dlm - markup.heading.question.dlm
### Chosen
<!-- <--- meta.field.chosen.dlm markup.heading.chosen.dlm punctuation.definition.heading.dlm - meta.field.prompt.dlm
<!-- <~~~~------ meta.field.chosen.dlm entity.name.section.chosen.dlm
Thank you, this helps a lot.
<!-- <--------- meta.field.chosen.dlm
### Rejected 
<!-- <--- meta.field.rejected.dlm markup.heading.rejected.dlm punctuation.definition.heading.dlm - meta.field.chosen.dlm
<!-- <~~~~-------- meta.field.rejected.dlm entity.name.section.rejected.dlm
ok
<!-- <-- meta.section.preference.dlm meta.field.rejected.dlm
### Chosen one
<!-- <-------------- meta.field.rejected.dlm - markup.heading.chosen.dlm

### Prompt
<!-- <~~~~------ meta.field.prompt.dlm entity.name.section.prompt.dlm - meta.field.rejected.dlm
Second prompt.
::instruction::
<!-- <~~----------- meta.section.instruction.dlm - meta.section.preference.dlm meta.field.prompt.dlm
