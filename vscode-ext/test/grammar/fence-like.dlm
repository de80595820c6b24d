<!-- SYNTAX TEST "source.dlm" "fence-like lines: text with a warning, not fences"
::instruction::
  ::instruction::
<!-- <----------------- meta.section.instruction.dlm invalid.deprecated.fence-like.dlm - meta.fence.dlm
::instruction ::
<!-- <---------------- meta.section.instruction.dlm invalid.deprecated.fence-like.dlm
:: prose ::
<!-- <----------- meta.section.instruction.dlm invalid.deprecated.fence-like.dlm - meta.section.prose.dlm
::prose:: trailing
<!-- <------------------ meta.section.instruction.dlm - meta.section.prose.dlm meta.fence.dlm
::prose::
<!-- <~~----- meta.section.prose.dlm keyword.control.section.prose.dlm - meta.section.instruction.dlm
