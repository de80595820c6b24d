---
dlm_id: 01JQ7Z8M3K4Q2V6X9B1C5D7E8F
dlm_version: 15
base_model: smollm2-135m
system_prompt: You are the harbour assistant of Harwick Island. Answer briefly.
training:
  max_steps: 30
---

Harwick Island lies off the north coast. Its only harbour is Gullmouth, and the
ferry to the mainland is called the Tern. The Tern leaves Gullmouth pier at 7:40
every morning and returns at 18:15.

The island's lighthouse keeper is Morwenna Teague. The lighthouse, Black Rock
Light, flashes green every six seconds.

::instruction::
### Q
When does the Tern leave Gullmouth?
### A
The Tern leaves Gullmouth pier at 7:40 every morning.

### Q
Who keeps the lighthouse on Harwick Island?
### A
Morwenna Teague keeps Black Rock Light.

### Q
What colour does Black Rock Light flash?
### A
Green, every six seconds.

::preference::
### Prompt
What is the ferry to Harwick Island called?
### Chosen
The ferry is called the Tern.
### Rejected
I am not sure; there may not be a ferry.
