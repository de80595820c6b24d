<!-- SYNTAX TEST "source.dlm" "fences: the three types, adapter suffixes, media and unknown types"
Lead prose before the first fence.
<!-- <---------- source.dlm - meta.section.prose.dlm
::prose::
<!-- <-- meta.section.prose.dlm meta.fence.dlm punctuation.definition.fence.begin.dlm
<!-- <~~----- meta.section.prose.dlm meta.fence.dlm keyword.control.section.prose.dlm
<!--   ^^ meta.section.prose.dlm meta.fence.dlm punctuation.definition.fence.end.dlm
Prose text.
<!-- <----------- meta.section.prose.dlm
::instruction#tone::
<!-- <-- meta.section.instruction.dlm punctuation.definition.fence.begin.dlm - meta.section.prose.dlm
<!-- <~~----------- meta.section.instruction.dlm keyword.control.section.instruction.dlm
<!--         ^ meta.section.instruction.dlm punctuation.separator.adapter.dlm
<!--          ^^^^ meta.section.instruction.dlm entity.name.tag.adapter.dlm
<!--              ^^ meta.section.instruction.dlm punctuation.definition.fence.end.dlm
### Q
Q?
### A
A.
::preference#style_2::
<!-- <~~---------- meta.section.preference.dlm keyword.control.section.preference.dlm - meta.section.instruction.dlm
<!--         ^^^^^^^ meta.section.preference.dlm entity.name.tag.adapter.dlm
::instruction#Bad-Name::
<!--          ^^^^^^^^ meta.section.instruction.dlm invalid.illegal.adapter.dlm - entity.name.tag.adapter.dlm
::prose#a_name_that_is_far_too_long_for_dlm::
<!--    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ meta.section.prose.dlm invalid.illegal.adapter.dlm
::prose#::
<!--   ^ meta.section.prose.dlm invalid.illegal.adapter.dlm
::image src="figure.png"::
<!-- <~~----- meta.section.media.dlm meta.fence.dlm keyword.control.section.media.dlm
<!--   ^^^^^^^^^^^^^^^^^ meta.section.media.dlm string.unquoted.media.dlm
::audio::
<!-- <~~----- meta.section.media.dlm keyword.control.section.media.dlm
::Instruction::
<!-- <~~----------- meta.section.unknown.dlm invalid.illegal.section-type.dlm - keyword.control.section.instruction.dlm
### Q
<!-- <----- meta.section.unknown.dlm - markup.heading.question.dlm
::instructions::
<!-- <~~------------ meta.section.unknown.dlm invalid.illegal.section-type.dlm
