"""`python -m dlm` runs the CLI."""

from dlm.cli import main

main()
