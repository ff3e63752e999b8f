#!/usr/bin/env python3
"""The queue's figures (issue 11), each against its baseline measured in the same run:

  (a) 10,000 jobs (`true`) started by a shell loop into a group with limit 4, then one wait:
      jobs per second, against task-spooler with 4 slots (`tsp -S 4`) and the same loop
  (b) the same jobs queued first (through JobClient, behind 4 blocking jobs), then run by the
      group: jobs per second, and the median gap between one job's end and the start of the next one in its place
      (target < 2 ms; pueue's loop ticks every 200 ms), from the jobs' own times
  (c) the agent's memory with 100,000 jobs waiting in a paused group (target < 100 MB)

Runs what `scripts/install` installs, with JOB_HOME on disk. task-spooler is required
(`apt-get install task-spooler`). `--quick`: 1,000 and 10,000 jobs instead.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_core import agent_rss, install, run  # noqa: E402

QUICK = "--quick" in sys.argv


def iso(text):
    # 2026-11-28T21:30:00.123Z
    from datetime import datetime, timezone
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def main():
    tsp = shutil.which("tsp")
    if not tsp:
        sys.exit("bench_queue: task-spooler is needed for the baseline: apt-get install task-spooler")
    scratch = tempfile.mkdtemp(prefix="job-bench-queue-")
    job, bench = install(os.path.join(scratch, "prefix"))
    env = dict(os.environ, JOB_HOME=os.path.join(scratch, "home"), TS_SOCKET=os.path.join(scratch, "tsp.socket"),
               TMPDIR=scratch, TS_MAXFINISHED="1000000", TS_MAXCONN="1000")
    env.pop("JOB_AGENT_EXECUTABLE", None)
    n = 1000 if QUICK else 10000
    try:
        # (a) job: 4 blockers hold the group's places, then n jobs queue behind them.
        fifo = os.path.join(scratch, "gate")
        os.mkfifo(fifo)
        run([job, "group", "set", "bench", "--limit", "4"], env)
        for _ in range(4):
            run([job, "start", "--quiet", "--group", "bench", f"read x < {fifo}"], env)
        run([bench, "queue", str(n), "bench"], env)
        began = time.perf_counter()
        with open(fifo, "w") as gate:
            gate.write("go\n" * 4)
        run([job, "wait"], env)
        queued_seconds = time.perf_counter() - began
        records = json.loads(run([job, "get", "--include-children", "--group", "bench", "--format", "json"], env,
                                 stdout=subprocess.PIPE).stdout)
        children = [r for r in records if r["parentId"] is not None and r["beginTime"] and r["endTime"]]
        # (b) each start after the first four follows the latest end before it.
        ends = sorted(iso(r["endTime"]) for r in children)
        begins = sorted(iso(r["beginTime"]) for r in children)[4:]
        gaps = []
        index = 0
        for begin in begins:
            while index < len(ends) and ends[index] <= begin:
                index += 1
            if index > 0:
                gaps.append((begin - ends[index - 1]) * 1000)
        gap = statistics.median(gaps) if gaps else float("nan")
        run([job, "remove", "--all"], env)

        # (a) the loops: n starts into a group of 4, then one wait, against tsp -S 4. (tsp keeps a
        # client process per queued job and takes at most 1,000, so it cannot be filled first.)
        job_loop = (f'for i in $(seq {n}); do "{job}" start --quiet --group bench true >/dev/null; done; '
                    f'"{job}" wait >/dev/null')
        tsp_loop = f'for i in $(seq {n}); do "{tsp}" true >/dev/null; done; "{tsp}" -w'
        run([tsp, "-S", "4"], env)
        began = time.perf_counter()
        run(["bash", "-c", job_loop], env)
        job_seconds = time.perf_counter() - began
        began = time.perf_counter()
        run(["bash", "-c", tsp_loop], env)
        tsp_seconds = time.perf_counter() - began
        run([job, "remove", "--all"], env)

        print(f"(a) a shell loop of {n} starts into a group of 4, then a wait: {n / job_seconds:.0f} jobs/s; "
              f"tsp -S 4: {n / tsp_seconds:.0f} jobs/s; ratio {tsp_seconds / job_seconds:.2f}x tsp's rate")
        print(f"(b) {n} jobs queued first, then run by the group of 4: {n / queued_seconds:.0f} jobs/s")
        print(f"(b) median gap from an end to the next start: {gap:.2f} ms; target < 2 ms: "
              f"{'met' if gap < 2 else 'MISSED'}")

        # (c) many jobs waiting.
        many = 10000 if QUICK else 100000
        run([job, "group", "set", "parked", "--limit", "1"], env)
        run([job, "group", "pause", "parked"], env)
        run([bench, "queue", str(many), "parked"], env)
        run([job, "get"], env)
        rss = agent_rss(job, env)
        print(f"(c) agent memory with {many} jobs waiting: {rss:.1f} MB; target < 100 MB: "
              f"{'met' if rss < 100 else 'MISSED'}")
    finally:
        subprocess.run([job, "agent", "stop"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([tsp, "-K"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
