<!-- SYNTAX TEST "source.dlm" "frontmatter: empty, and not on line 1"
---
<!-- <--- punctuation.definition.frontmatter.begin.dlm
---
<!-- <--- punctuation.definition.frontmatter.end.dlm
::prose::
<!-- <~~----- keyword.control.section.prose.dlm
