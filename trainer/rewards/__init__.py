"""Reward models: outcome and process models, ensembles, a cache, plug-ins (docs/judges.md).

`BaseRM` (in `trainer.rewards.base`) is the interface; `AutoRM.load` the loader.
Import from the submodules: this package imports nothing heavy.
"""
