"""Training: the SFT and preference phases, their settings, rows, batches and held-out check."""
