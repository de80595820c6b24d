<!-- SYNTAX TEST "source.dlm" "frontmatter: only on line 1"

---
<!-- <--- source.dlm - meta.frontmatter.dlm punctuation.definition.frontmatter.begin.dlm
dlm_id: x
<!-- <------ source.dlm - meta.embedded.block.frontmatter
