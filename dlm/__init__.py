"""The `dlm` command: the composition root that wires dlmlang, trainer and lsp.

Nothing imports this package. Heavy libraries (torch, transformers, trl) are
imported inside command bodies so `dlm --help` and `dlm check` stay fast.
"""
