"""Peak resident memory of this process during a block, sampled in a background thread.

ru_maxrss only ever grows over a process's life, so it cannot give the peak of one run among
many; sampling RSS every few milliseconds can (it may miss spikes shorter than the interval).
"""

from __future__ import annotations

import threading


class PeakMemory:
    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        import psutil

        proc = psutil.Process()
        self.peak_bytes = proc.memory_info().rss

        def sample() -> None:
            while not self._stop.wait(self.interval):
                self.peak_bytes = max(self.peak_bytes, proc.memory_info().rss)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        import psutil

        self.peak_bytes = max(self.peak_bytes, psutil.Process().memory_info().rss)

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 2**20
