"""The `dlm` command."""
