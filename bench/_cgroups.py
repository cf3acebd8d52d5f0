"""One cgroup per simulated worker machine: a CPU budget (cgroup v1 `cpu`) and a CPU meter (`cpuacct`).

Scaling out means more worker *machines*, each with its own cores. On one shared machine, extra
worker processes only split the same cores, so a benchmark of them measures the machine, not
the design. A cgroup with `cpu.cfs_quota_us / cpu.cfs_period_us = 0.35` lets the processes in
it use at most 0.35 of a core in total, whatever else runs, just as a small machine of their
own would: N such groups give N times the CPU, as long as the machine has that much to spare.

A process is placed in the groups by a small `sh` wrapper that writes its own pid into
`cgroup.procs` and then `exec`s the real command, so everything it starts later (the RQ
scheduler, the thumbnail process) is born inside the group. (A preexec_fn would do the same,
but it is unsafe in a process with threads, such as the bench with its simulator.)
"""

from __future__ import annotations

import os
import time
from pathlib import Path

CPU_ROOT = Path(os.environ.get("ATELIER_BENCH_CGROUP_CPU", "/sys/fs/cgroup/cpu"))
CPUACCT_ROOT = Path(os.environ.get("ATELIER_BENCH_CGROUP_CPUACCT", "/sys/fs/cgroup/cpuacct"))
PERIOD_US = 100_000
# A machine of its own gets its cores even when the host is busy: with a budget, the group
# outweighs plain processes (1024 each) when the CPU is contended. The quota still caps it.
BUDGET_SHARES = 8192

# `sh -c SCRIPT sh CPU_PROCS ACCT_PROCS COMMAND...`: join both groups, then become COMMAND.
_JOIN = 'echo $$ > "$1" && echo $$ > "$2" && shift 2 && exec "$@"'


class CgroupError(RuntimeError):
    pass


def problem() -> str | None:
    """Why worker cgroups cannot be made here, in plain words; None when they can."""
    for root, controller in ((CPU_ROOT, "cpu"), (CPUACCT_ROOT, "cpuacct")):
        if not (root / "cgroup.procs").exists():
            return (f"the cgroup v1 '{controller}' controller is not mounted at {root} (this benchmark's "
                    f"--worker-cpu needs cgroup v1; on a cgroup v2-only system it is not available)")
        if not os.access(root, os.W_OK):
            return f"{root} is not writable (run the benchmark as root to give workers a CPU budget)"
    if not (CPU_ROOT / "cpu.cfs_quota_us").exists():
        return f"{CPU_ROOT} has no cpu.cfs_quota_us (the kernel lacks CFS bandwidth control)"
    return None


class WorkerCgroup:
    """The CPU of one worker machine: at most `cores` cores when given, and always metered."""

    def __init__(self, name: str, cores: float | None) -> None:
        self.name = name
        self.cores = cores
        self.cpu_dir = CPU_ROOT / name
        # Where cpu and cpuacct are mounted together (cpu,cpuacct), one directory does both.
        self.acct_dir = self.cpu_dir if (CPU_ROOT / "cpuacct.usage").exists() else CPUACCT_ROOT / name

    def __enter__(self) -> WorkerCgroup:
        try:
            for directory in {self.cpu_dir, self.acct_dir}:
                directory.mkdir(exist_ok=False)
            quota = -1 if self.cores is None else max(1000, int(self.cores * PERIOD_US))
            (self.cpu_dir / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (self.cpu_dir / "cpu.cfs_quota_us").write_text(str(quota))
            if self.cores is not None:
                (self.cpu_dir / "cpu.shares").write_text(str(BUDGET_SHARES))
        except OSError as error:
            self.remove()
            raise CgroupError(f"could not create the cgroup {self.name}: {error}") from error
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()

    def wrap(self) -> tuple[str, ...]:
        """The command prefix that starts a program inside this group."""
        return ("sh", "-c", _JOIN, "sh", str(self.cpu_dir / "cgroup.procs"), str(self.acct_dir / "cgroup.procs"))

    def pids(self) -> list[int]:
        try:
            return [int(line) for line in (self.acct_dir / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        """CPU used by every process that ever ran in the group (user + system)."""
        return int((self.acct_dir / "cpuacct.usage").read_text()) / 1e9

    def throttled(self) -> tuple[int, int, float]:
        """(CFS periods with runnable tasks, periods in which the quota ran out, seconds held back)."""
        stat = dict(line.split() for line in (self.cpu_dir / "cpu.stat").read_text().splitlines() if line.strip())
        return int(stat["nr_periods"]), int(stat["nr_throttled"]), int(stat["throttled_time"]) / 1e9

    def remove(self) -> None:
        """Remove the group; processes of ours still in it (there should be none) are killed first."""
        for directory in {self.cpu_dir, self.acct_dir}:
            if not directory.exists():
                continue
            for _ in range(50):
                try:
                    directory.rmdir()
                    break
                except OSError:
                    for pid in self.pids():  # only ever processes this benchmark started
                        try:
                            os.kill(pid, 9)
                        except ProcessLookupError:
                            pass
                    time.sleep(0.1)
            else:
                raise CgroupError(f"could not remove the cgroup {directory}; remove it with rmdir when empty")
