"""Preference mining: sampling candidates, filtering, pairing (docs/self-improving-loop.md)."""
