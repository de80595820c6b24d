<!-- SYNTAX TEST "source.dlm" "frontmatter: --- delimiters around embedded YAML"
---
<!-- <--- meta.frontmatter.dlm punctuation.definition.frontmatter.begin.dlm
dlm_id: 01JQ7Z8M3K4Q2V6X9B1C5D7E8F
<!-- <------ meta.frontmatter.dlm meta.embedded.block.frontmatter entity.name.tag.yaml
<!--  ^ meta.embedded.block.frontmatter punctuation.separator.key-value.mapping.yaml
base_model: smollm2-135m   # a comment
<!--        ^^^^^^^^^^^^ meta.embedded.block.frontmatter string.unquoted.plain.out.yaml
<!--                       ^^^^^^^^^^^ meta.embedded.block.frontmatter comment.line.number-sign.yaml
training:
  lora_r: 8
<!-- <~~------ meta.embedded.block.frontmatter entity.name.tag.yaml
<!--      ^ meta.embedded.block.frontmatter constant.numeric.integer.yaml
system_prompt: |
  Answer briefly.
---
<!-- <--- meta.frontmatter.dlm punctuation.definition.frontmatter.end.dlm - meta.embedded.block.frontmatter

Prose after the frontmatter.
<!-- <----- source.dlm - meta.frontmatter.dlm
---
<!-- <--- source.dlm - meta.frontmatter.dlm punctuation.definition.frontmatter.begin.dlm
key: value
<!-- <--- source.dlm - meta.frontmatter.dlm entity.name.tag.yaml
