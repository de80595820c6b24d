"""Generation: loading a model to answer, seeded sampling and its backends, log-probs, best-of-N."""
