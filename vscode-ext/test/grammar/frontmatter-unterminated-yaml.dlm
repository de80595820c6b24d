<!-- SYNTAX TEST "source.dlm" "frontmatter: an unclosed YAML string cannot swallow the closing ---"
---
system_prompt: "an unclosed string
<!-- <------------- meta.embedded.block.frontmatter entity.name.tag.yaml
---
<!-- <--- meta.frontmatter.dlm punctuation.definition.frontmatter.end.dlm - meta.embedded.block.frontmatter
::instruction::
<!-- <~~----------- meta.section.instruction.dlm keyword.control.section.instruction.dlm - meta.frontmatter.dlm
### Q
Q?
### A
A.
