<!-- SYNTAX TEST "source.dlm" "DocumentLanguageModel's synthesis and harvest markers, probe questions, an empty adapter"
::instruction::
<!-- dlm-auto-synth: synth_teacher="self" synth_strategy="extraction" synth_at="2026-04-23T18:42:11Z" source_section_id="0123456789abcdef" -->
<!-- <---- meta.section.instruction.dlm comment.block.auto-mined.dlm punctuation.definition.comment.begin.dlm
<!-- ^^^^^^^^^^^^^^ comment.block.auto-mined.dlm keyword.other.auto-mined.dlm
<!--                 ^^^^^^^^^^^^^ comment.block.auto-mined.dlm entity.other.attribute-name.dlm
<!--                                ^^^^ comment.block.auto-mined.dlm string.quoted.double.dlm
### Q !probe
<!-- <~~~~~~~~~~~ meta.field.question.dlm entity.name.section.question.dlm
Is the Tern on time?
### A
<!-- <~~~~ meta.field.answer.dlm entity.name.section.answer.dlm
Always.
::prose::
<!-- dlm-auto-harvest: source="notes/2026-04.md" -->
<!-- ^^^^^^^^^^^^^^^^ comment.block.auto-mined.dlm keyword.other.auto-mined.dlm
<!--                   ^^^^^^ entity.other.attribute-name.dlm
<!-- dlm-auto-synth: synth_teacher="self
<!-- <----------------------------------- invalid.illegal.marker.dlm
::preference#::
<!--        ^ meta.section.preference.dlm invalid.illegal.adapter.dlm
### Prompt
P
### Chosen
C
### Rejected
R
::prose::
<!-- dlm-auto-mined: judge_name="sway" judge_score_chosen="0.82" judge_score_rejected="0.1" mined_at="2026-04-23T18:42:11Z" mined_run_id="7" -->
<!-- <-------------------- meta.section.prose.dlm invalid.illegal.marker.dlm - comment.block.auto-mined.dlm
