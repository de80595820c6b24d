<!-- SYNTAX TEST "source.dlm" "prose sections and the lead: headers are plain text"
### Q
<!-- <----- source.dlm - markup.heading.question.dlm
::prose::
### Q
<!-- <----- meta.section.prose.dlm - markup.heading.question.dlm
### Chosen
<!-- <---------- meta.section.prose.dlm - markup.heading.chosen.dlm
# A markdown heading is prose too
<!-- <------------ meta.section.prose.dlm - markup.heading.question.dlm
