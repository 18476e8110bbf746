"""One torch-thread limiter for every model and the judge.

On a shared 2-core machine two busy-waiting torch threads per process were measured 10-20x
slower than one (P5 training steps, load average ~9), so models run their heavy blocks under a
configured count. torch is imported only when a block runs, never at import of this module.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def torch_threads(n: int = 0) -> Iterator[None]:
    """torch intra-op threads = ``n`` inside the block (0 = leave torch's setting).

    The count on entry is restored on exit, also when the block changed it itself (a model that
    picks its count by a timed probe sets it inside)."""
    import torch

    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def with_torch_threads(method: Callable[..., Any]) -> Callable[..., Any]:
    """Method decorator: run under ``torch_threads(self.config.num_threads)``."""
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with torch_threads(self.config.num_threads):
            return method(self, *args, **kwargs)

    return wrapper
