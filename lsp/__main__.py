"""`python -m lsp`: the language server on stdio."""

from lsp.server import main

main()
