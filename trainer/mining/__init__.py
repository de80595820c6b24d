"""Preference mining (spec §7): sampling candidates, filtering them, pairing them."""
