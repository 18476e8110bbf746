"""explainrec-bench: one harness, many recommenders, four tracks.

Importing this package is cheap: models, torch and RecBole load lazily through
``benchmark.registry`` when a model is built.
"""

__version__ = "0.1.0"
