"""One module per command or command group, each registering itself on the app."""
