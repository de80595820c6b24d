"""The language server's features, one module each: diagnostics, completion, hover,
outline, code actions, and the loop's commands."""
