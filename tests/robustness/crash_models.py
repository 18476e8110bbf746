"""Models that end their own process, for tests/robustness/test_crash.py.

They live in an importable module (not inside the test) because the local executor runs each
job in a fresh child process: the test registers "tests.robustness.crash_models:<Class>" in the
registry and the child imports it from there.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmark.data.types import Interactions
from benchmark.models.base import Recommender


@dataclasses.dataclass
class CrashConfig:
    #: "exit" (os._exit(3)), "kill" (SIGKILL to itself) or "sleep" (for ``seconds``)
    how: str = "exit"
    seconds: float = 60.0
    #: write the pid of a long-running grandchild here before dying (it must not outlive the job)
    orphan_pid_file: str = ""
    #: write this (the job's) process id here first, so a test can watch it
    pid_file: str = ""


class CrashModel(Recommender):
    """Ends its process in ``fit`` the way ``how`` says, after printing a recognisable line."""

    Config = CrashConfig

    def fit(self, train: Interactions, valid: Interactions, *, seed: int) -> None:
        self._remember(train, valid)
        if self.config.pid_file:
            Path(self.config.pid_file).write_text(str(os.getpid()))
        print(f"crash model: about to {self.config.how}", flush=False)  # unbuffered in a job
        print("crash model: on stderr too", file=sys.stderr)
        if self.config.orphan_pid_file:
            child = subprocess.Popen(["sleep", "30"])
            Path(self.config.orphan_pid_file).write_text(str(child.pid))
        if self.config.how == "exit":
            os._exit(3)
        if self.config.how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(self.config.seconds)

    def score_all(self, users: np.ndarray) -> np.ndarray:
        return np.zeros((len(users), self.n_items))
