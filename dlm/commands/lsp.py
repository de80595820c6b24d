"""`dlm lsp`: the language server on stdio."""

from __future__ import annotations


def lsp() -> None:
    """Run the .dlm language server on stdio (your editor starts it; see docs/editors.md).

    Live diagnostics, hover on markers, fences and frontmatter keys, an outline and
    folding. Writes only the protocol to stdout; logs go to stderr.

    Example: dlm lsp
    """
    from lsp.server import main

    main()
