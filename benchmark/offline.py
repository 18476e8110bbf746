"""The Hugging Face offline switches, set in one place, when a model is built or loaded.

Nothing in the suite downloads at run time: every model, tokenizer and encoder comes from a local
folder. ``huggingface_hub`` reads these variables once, when it is first imported, so
:func:`go_offline` runs before the first transformers import of a model build or a loader (not
at import of any benchmark module: importing the harness changes no environment). A value the
user set already is kept.
"""

from __future__ import annotations

import os

#: variable -> value; the executors pass the same to processes they start
OFFLINE_ENV: dict[str, str] = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def go_offline() -> None:
    """Set every offline variable the user has not set (idempotent)."""
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
