#!/usr/bin/env python3
"""Compares two builds of job, alternating between them so that the machine's drift hits both.

Usage: python3 Benchmarks/compare_builds.py OLD_BIN_DIR NEW_BIN_DIR [ROUNDS]

Each BIN_DIR holds a release `job`, `job-bench` (and `job-agent`, in builds that have it), e.g. a
checkout's .build-bench/release (JOB_BENCHMARKS=1 swift build -c release --scratch-path .build-bench).
Prints the median of `job start --quiet true` + `job wait` (CLI, ROUNDS alternating rounds), of
300 jobs through the JobClient API (8 alternating runs), and of a shell loop of 300 `job start
--quiet true` then one `job wait` (6 alternating runs) with the agent's and the supervisor's CPU
and context switches per start (/proc/PID/task/*/schedstat and status), all with JOB_HOME on
tmpfs, and the ratios new/old. Used to put the cost of a change on the start path on record.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    dirs = {"old": os.path.abspath(sys.argv[1]), "new": os.path.abspath(sys.argv[2])}
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    homes = {k: os.path.join(tempfile.mkdtemp(prefix="job-compare-", dir=shm), "home") for k in dirs}

    def env(k):
        # Builds before the split started their agent with `job` itself (JOB_EXECUTABLE); later
        # ones start the `job-agent` beside them.
        agent = os.path.join(dirs[k], "job-agent")
        return dict(os.environ, JOB_HOME=homes[k], JOB_EXECUTABLE=os.path.join(dirs[k], "job"),
                    **({"JOB_AGENT_EXECUTABLE": agent} if os.path.exists(agent) else {}))

    def start_wait(k):
        job = os.path.join(dirs[k], "job")
        began = time.perf_counter()
        out = subprocess.run([job, "start", "--quiet", "true"], env=env(k), capture_output=True, check=True)
        subprocess.run([job, "wait", out.stdout.strip()], env=env(k), capture_output=True, check=True)
        return time.perf_counter() - began

    def tasks(pid, name):
        """The sum of a field over a process's threads: CPU (ns) from schedstat, or switches."""
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            if name == "cpu":
                total += int(open(f"/proc/{pid}/task/{task}/schedstat").read().split()[0])
            else:
                for line in open(f"/proc/{pid}/task/{task}/status"):
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        return total

    def agent_and_supervisor(k):
        agent = int(open(os.path.join(homes[k], "agent.lock")).read().strip())
        supervisor = None
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
            if name == "job-supervisor" and int(rest[1]) == agent:
                supervisor = int(entry)
        return agent, supervisor

    def loop(k, starts=300):
        job = os.path.join(dirs[k], "job")
        agent, supervisor = agent_and_supervisor(k)
        before = [tasks(p, f) for p in (agent, supervisor) for f in ("cpu", "switches")]
        began = time.perf_counter()
        subprocess.run(["bash", "-c", f'for i in $(seq {starts}); do "{job}" start --quiet true >/dev/null; done; '
                        f'"{job}" wait >/dev/null'], env=env(k), check=True)
        took = time.perf_counter() - began
        after = [tasks(p, f) for p in (agent, supervisor) for f in ("cpu", "switches")]
        per = [(b - a) / starts for a, b in zip(before, after)]
        return {"loop": took / starts * 1e6, "agent us": per[0] / 1000, "agent switches": per[1],
                "supervisor us": per[2] / 1000, "supervisor switches": per[3]}

    try:
        for k in dirs:
            for _ in range(20):
                start_wait(k)
        cli = {k: [] for k in dirs}
        for i in range(rounds):
            for k in (("old", "new") if i % 2 == 0 else ("new", "old")):
                cli[k].append(start_wait(k))
        api = {k: [] for k in dirs}
        for i in range(8):
            for k in (("old", "new") if i % 2 == 0 else ("new", "old")):
                out = subprocess.run([os.path.join(dirs[k], "job-bench"), "start", "300"], env=env(k),
                                     capture_output=True, check=True, text=True).stdout
                api[k].append(int(re.findall(r"\((\d+) jobs/s\)", out)[-1]))
                subprocess.run([os.path.join(dirs[k], "job"), "remove", "--all"], env=env(k), capture_output=True)
        loops = {k: [] for k in dirs}
        for i in range(6):
            for k in (("old", "new") if i % 2 == 0 else ("new", "old")):
                loops[k].append(loop(k))
        c = {k: statistics.median(v) * 1000 for k, v in cli.items()}
        a = {k: statistics.median(v) for k, v in api.items()}
        print(f"job start + job wait, median of {rounds} alternating rounds: old {c['old']:.3f} ms, "
              f"new {c['new']:.3f} ms, ratio {c['new'] / c['old']:.2f}x")
        print(f"300 jobs through JobClient, start to all finished, median of 8 alternating runs: "
              f"old {a['old']:.0f} jobs/s, new {a['new']:.0f} jobs/s, ratio {a['new'] / a['old']:.2f}x")
        for field in ("loop", "agent us", "agent switches", "supervisor us", "supervisor switches"):
            o, n = (statistics.median(r[field] for r in loops[k]) for k in ("old", "new"))
            name = "a loop of 300 starts + one wait, us a start" if field == "loop" else f"  {field} a start"
            print(f"{name}, median of 6 alternating runs: old {o:.2f}, new {n:.2f}, ratio {n / o:.2f}x")
    finally:
        for k in dirs:
            subprocess.run([os.path.join(dirs[k], "job"), "stop", "--all", "--grace", "0"], env=env(k),
                           capture_output=True)
            subprocess.run([os.path.join(dirs[k], "job"), "agent", "stop"], env=env(k), capture_output=True)


if __name__ == "__main__":
    main()
