"""Reward models: outcome and process models, ensembles, a cache, plug-ins (spec §8).

`BaseRM` (in `trainer.rewards.base`) is the interface; `AutoRM.load` the loader.
Import from the submodules: this package imports nothing heavy.
"""
