"""Set-up of a thumbnail worker process (gallery.previews). Imports no models: the process
is spawned, and Django's apps are not loaded there."""

from __future__ import annotations

import os
import sys

# Added to the thumbnail processes' niceness (Unix priority; 19 is the lowest): thumbnails take
# only CPU nobody else wants. In a burst they follow the saves (the gallery shows originals
# meanwhile); at 10 they still took a tenth of a busy machine from saving and answering.
PREVIEW_NICENESS = 19


def started(parent_pid: int) -> None:
    # At a lower priority: saving outputs and answering people come first, thumbnails can wait.
    os.nice(PREVIEW_NICENESS)
    if hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    # Die with the tracker (Linux): a thumbnail finished after a SIGKILL would land in a scratch
    # folder the sweeper is already removing (gallery.scratch), and be left behind.
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent_pid:  # the tracker died before we asked
            os._exit(0)
