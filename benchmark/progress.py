"""One process-wide switch for progress bars, so `recbench ... --no-progress` silences all.

Why an environment variable: jobs run in child processes (``benchmark/runner/isolation.py``)
and Ray workers, which inherit the environment but not Python state, and bars come from code
that never sees the command line (RecBole's trainer, Hugging Face loaders, our LM fine-tuning
and scoring loops). ``disable_all`` sets ``RECBENCH_NO_PROGRESS=1`` for our own bars (each asks
``enabled``), ``TQDM_DISABLE=1`` for tqdm bars created without an explicit ``disable``
(RecBole's), and ``HF_HUB_DISABLE_PROGRESS_BARS=1`` for Hugging Face's. tqdm reads its
variable when it is imported: job processes start with it set; `recbench` sets it first thing,
before anything imports tqdm.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "RECBENCH_NO_PROGRESS"
#: every variable ``disable_all`` sets: ours, tqdm's default for ``disable``, Hugging Face's
SILENCING = {ENV: "1", "TQDM_DISABLE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}


def enabled(requested: bool = True) -> bool:
    """Whether a bar the caller wants (``requested``) may be shown in this process."""
    return bool(requested) and os.environ.get(ENV, "").strip() in ("", "0")


def disable_all() -> None:
    """Silence every bar in this process and in the processes it starts from now on."""
    os.environ.update(SILENCING)
    try:  # transformers read the Hugging Face variable at import; tell them if imported
        import sys

        if "transformers" in sys.modules:
            sys.modules["transformers"].utils.logging.disable_progress_bar()
    except Exception:  # an old or partial transformers: the variable still reaches children
        pass


@contextmanager
def silenced(active: bool = True) -> Iterator[None]:
    """``disable_all`` for the duration of a block (library callers of ``run_suite``), then
    the environment as it was."""
    if not active:
        yield
        return
    before = {k: os.environ.get(k) for k in SILENCING}
    disable_all()
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
