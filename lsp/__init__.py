"""The dlm language server (pygls 2): diagnostics, hover and an outline for `.dlm` files.

It reads documents only through `dlmlang` and never imports the trainer: anything
that needs the store goes through `dlm` subprocesses.
"""
