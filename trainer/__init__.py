"""The ML backend: base models, store, training, sampling, judges, mining."""
