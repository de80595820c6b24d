<!-- SYNTAX TEST "source.dlm" "malformed markers are one invalid line"
::preference::
<!-- dlm-auto-mined: judge_name="sway"
<!-- <-------------------------------------- meta.section.preference.dlm invalid.illegal.marker.dlm - comment.block.auto-mined.dlm
<!-- dlm-auto-mined: judge_name=sway -->
<!-- <---------------------------------------- invalid.illegal.marker.dlm
<!-- dlm-auto-mined judge_name="sway" -->
<!-- <------------------- invalid.illegal.marker.dlm
<!-- dlm-auto-mined: judge_name="sway"judge_score_chosen="1" -->
<!-- <------------------- invalid.illegal.marker.dlm
<!-- dlm-auto-mined: judge_name="sway" --> trailing
<!--                                       ^^^^^^^^ invalid.illegal.marker.dlm
