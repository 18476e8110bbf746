"""One suite-level progress line: job i of N, the model running, elapsed time, an estimate.

Why one line for the suite: jobs run in child processes whose own bars go to their job.log, so
the terminal shows what a user waiting on a long suite needs, how far it is and how long is
left, instead of thousands of per-epoch bars. On a terminal the line is drawn by ``rich`` (the
project's console library); elsewhere (CI logs) each job start is one plain line; with
``--no-progress`` (``benchmark.progress``) nothing is printed. The estimate is the mean time of
the jobs run so far times the jobs left (skipped jobs cost nothing).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from benchmark import progress as switch


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class SuiteProgress:
    """Counts jobs of a suite as they start, finish or are skipped; draws the line."""

    def __init__(self, total: int, *, show: bool = True, stream: Any = None) -> None:
        self.total, self.done, self.ran_seconds, self.ran = total, 0, 0.0, 0
        self.show = show and switch.enabled() and total > 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._live: Any = None
        self._task: Any = None
        self._handlers: list[tuple[logging.StreamHandler, Any]] = []

    # -- the numbers -------------------------------------------------------------------
    def estimate(self) -> float | None:
        """Seconds left: mean time of the jobs run so far x jobs left; None before the first."""
        if not self.ran:
            return None
        return self.ran_seconds / self.ran * max(0, self.total - self.done)

    def text(self, what: str) -> str:
        left = self.estimate()
        tail = "estimating" if left is None else f"about {_clock(left)} left"
        return (f"job {min(self.done + 1, self.total)} of {self.total}: {what} | elapsed "
                f"{_clock(time.monotonic() - self.started)} | {tail}")

    # -- events from the runner --------------------------------------------------------
    def start(self, key: Any) -> None:
        what = f"{key.dataset}/{key.model} seed {key.seed}"
        if not self.show:
            return
        if self._live is not None:
            self._live.update(self._task, description=self.text(what))
        else:
            print(self.text(what), file=self.stream, flush=True)

    def finish(self, key: Any, seconds: float | None, *, ran: bool = True) -> None:
        self.done += 1
        if ran and seconds is not None:
            self.ran_seconds += seconds
            self.ran += 1
        if self._live is not None:
            self._live.update(self._task, completed=self.done,
                              description=self.text("next job"))

    def skip(self, key: Any) -> None:
        self.finish(key, None, ran=False)

    # -- drawing -----------------------------------------------------------------------
    def __enter__(self) -> SuiteProgress:
        if self.show and getattr(self.stream, "isatty", lambda: False)():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn

            self._live = Progress(TextColumn("{task.description}"), BarColumn(bar_width=20),
                                  console=Console(file=self.stream), transient=True,
                                  redirect_stdout=False, redirect_stderr=False)
            self._live.start()
            self._task = self._live.add_task(self.text("starting"), total=self.total)
            self._route_logs(self._live.console.file)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        for handler, stream in self._handlers:
            handler.setStream(stream)
        self._handlers.clear()

    def _route_logs(self, file: Any) -> None:
        """Log lines printed while the line is drawn go above it, not through it."""
        live = self._live

        class _AboveTheLine:
            def write(self, text: str) -> int:
                if text.strip():
                    live.console.print(text.rstrip("\n"), markup=False, highlight=False)
                return len(text)

            def flush(self) -> None:
                file.flush()

        proxy = _AboveTheLine()
        for name in ("", "recbench"):
            for h in logging.getLogger(name).handlers:
                if isinstance(h, logging.StreamHandler) and h.stream in (sys.stderr,
                                                                          sys.__stderr__):
                    self._handlers.append((h, h.setStream(proxy)))
