"""Language server for .dlm documents (see SPEC §10)."""
