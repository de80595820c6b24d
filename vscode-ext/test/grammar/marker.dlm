<!-- SYNTAX TEST "source.dlm" "the auto-mined marker: attributes and their values"
::preference::
<!-- dlm-auto-mined: judge_name="sway" judge_score_chosen="0.82" judge_score_rejected="-1.5e-3" mined_at="2026-04-23T18:42:11Z" mined_run_id="7" -->
<!-- <---- meta.section.preference.dlm comment.block.auto-mined.dlm punctuation.definition.comment.begin.dlm
<!-- ^^^^^^^^^^^^^^ comment.block.auto-mined.dlm keyword.other.auto-mined.dlm
<!--               ^ comment.block.auto-mined.dlm punctuation.separator.marker.dlm
<!--                 ^^^^^^^^^^ comment.block.auto-mined.dlm entity.other.attribute-name.dlm
<!--                           ^ comment.block.auto-mined.dlm punctuation.separator.key-value.dlm
<!--                            ^ string.quoted.double.dlm punctuation.definition.string.begin.dlm
<!--                             ^^^^ comment.block.auto-mined.dlm string.quoted.double.dlm
<!--                                 ^ string.quoted.double.dlm punctuation.definition.string.end.dlm
<!--                                   ^^^^^^^^^^^^^^^^^^ entity.other.attribute-name.dlm
<!--                                                       ^^^^ string.quoted.double.dlm constant.numeric.float.dlm
<!--                                                             ^^^^^^^^^^^^^^^^^^^^ entity.other.attribute-name.dlm
<!--                                                                                   ^^^^^^^ string.quoted.double.dlm constant.numeric.float.dlm
<!--                                                                                            ^^^^^^^^ entity.other.attribute-name.dlm
<!--                                                                                                      ^^^^^^^^^^^^^^^^^^^^ string.quoted.double.dlm constant.other.date-time.dlm
<!--                                                                                                                            ^^^^^^^^^^^^ entity.other.attribute-name.dlm
<!--                                                                                                                                          ^ string.quoted.double.dlm constant.numeric.integer.dlm
<!--                                                                                                                                             ^^^ comment.block.auto-mined.dlm punctuation.definition.comment.end.dlm
### Prompt
<!-- <~~~~------ meta.field.prompt.dlm entity.name.section.prompt.dlm - comment.block.auto-mined.dlm
P
### Chosen
C
### Rejected
R
::preference::
<!-- dlm-auto-mined: judge_name="a &quot;b&quot; &amp; c" mined_at="2026-04-23T20:42:11+02:00" judge_score_chosen="nan" mined_run_id="0" color="red"   -->  
<!--                               ^^^^^^ string.quoted.double.dlm constant.character.entity.dlm
<!--                                             ^^^^^ string.quoted.double.dlm constant.character.entity.dlm
<!--                                                                ^^^^^^^^^^^^^^^^^^^^^^^^^ constant.other.date-time.dlm
<!--                                                                                                               ^^^ string.quoted.double.dlm - constant.numeric.float.dlm
<!--                                                                                        ^^ string.quoted.double.dlm - constant.numeric.integer.dlm
<!--                                                                                                                                     ^^^^^ comment.block.auto-mined.dlm invalid.illegal.attribute-name.dlm - entity.other.attribute-name.dlm
<!--                                                                                                                                            ^^^ string.quoted.double.dlm
<!--                                                                                                                                                   ^^^ punctuation.definition.comment.end.dlm
<!-- dlm-auto-mined: judge_name="sway" mined_run_id="1" -->
<!--                 ^^^^^^^^^^ comment.block.auto-mined.dlm entity.other.attribute-name.dlm
