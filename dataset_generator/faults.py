"""Named fault points, for the fault tests of the suite (tests/test_faults_*.py).

A fault point is a place where a crash matters: just before a commit, just after a table format's commit
landed but before the writer returned. `fault_point("delta.after-commit")` does nothing unless the environment
variable DATASET_GENERATOR_FAULT names that point (`delta.after-commit`, or `delta.after-commit:orders` for one
table), in which case the process kills itself there (`=...@kill`, the default: SIGKILL, as `kill -9`; `@int`:
SIGINT, as Ctrl-C; `@raise`: an OSError, as a dropped connection). The cost when unset is one dict look-up per
commit, never per row.
"""

from __future__ import annotations

import os
import signal

ENVIRONMENT_VARIABLE = "DATASET_GENERATOR_FAULT"


class InjectedFault(OSError):
    """The error a `@raise` fault point raises."""


def fault_point(name: str, table: str | None = None) -> None:
    """Crash here if DATASET_GENERATOR_FAULT names this point (optionally for this table); else do nothing."""
    wanted = os.environ.get(ENVIRONMENT_VARIABLE)
    if not wanted:
        return
    point, _, action = wanted.partition("@")
    point_name, _, point_table = point.partition(":")
    if point_name != name or (point_table and point_table != table):
        return
    if action == "raise":
        raise InjectedFault(f"injected fault at {point}")
    os.kill(os.getpid(), signal.SIGINT if action == "int" else signal.SIGKILL)
