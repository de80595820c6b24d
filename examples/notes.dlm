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

### Prompt
When does the Tern come back to Gullmouth?
### Chosen
The Tern returns to Gullmouth at 18:15.
### Rejected
It does not come back the same day.

### Prompt
What is the only harbour on Harwick Island?
### Chosen
Gullmouth is the island's only harbour.
### Rejected
The island has no harbour; boats land on the beach.

### Prompt
How often does Black Rock Light flash?
### Chosen
Green, every six seconds.
### Rejected
White, once a minute.

### Prompt
Where does Harwick Island lie?
### Chosen
Off the north coast.
### Rejected
Far out in the southern ocean.

### Prompt
Who is Morwenna Teague?
### Chosen
The keeper of Black Rock Light.
### Rejected
The captain of the Tern.
