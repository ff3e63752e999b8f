#!/usr/bin/env python3
"""The core's figures (issue 10), each against its baseline measured in the same run.

Usage: python3 Benchmarks/bench_core.py [--quick]

Installs the build the README installs (`scripts/install` into a scratch prefix: the fully
static, stripped release) and measures, in a private JOB_HOME:

  (a) `job start --quiet true` + `job wait`, against `tsp true` + `tsp -w` and `sh -c 'true & wait'`
  (b) shell loops of 200 and 1,000 `job start --quiet true` then one `job wait`, against tsp's loop
  (c) 1,000 jobs through JobClient from one process (`job-bench start 1000`)
  (d) `job get` and `job get --newest 20` with 10,000 and 100,000 stored jobs, and the agent's memory
  (e) `job --version` against a C program's start-up (/bin/true)

Rounds of a figure and its baseline alternate, so that the machine's drift hits both alike.
Medians, and ratios of medians. task-spooler (`apt-get install task-spooler`) is required.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = "--quick" in sys.argv
MISSED = []


def install(prefix):
    subprocess.run([os.path.join(ROOT, "scripts", "install"), prefix], check=True, stdout=subprocess.DEVNULL)
    # The benchmark driver is part of the package only with JOB_BENCHMARKS=1: its own build folder.
    build = ["swift", "build", "-c", "release", "--scratch-path", os.path.join(ROOT, ".build-bench")]
    env = dict(os.environ, JOB_BENCHMARKS="1")
    subprocess.run(build + ["--product", "job-bench"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    bin_path = subprocess.run(build + ["--show-bin-path"], cwd=ROOT, env=env, check=True, capture_output=True,
                              text=True).stdout.strip()
    return os.path.join(prefix, "bin", "job"), os.path.join(bin_path, "job-bench")


def run(args, env, stdout=subprocess.DEVNULL):
    return subprocess.run(args, env=env, stdout=stdout, stderr=subprocess.PIPE, check=True)


def alternate(fns, rounds):
    """Median seconds of each function, run in turn round after round."""
    times = [[] for _ in fns]
    for _ in range(rounds):
        for index, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[index].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def report(name, value, unit, baseline_name=None, baseline=None, target=None, ok=None):
    line = f"{name}: {value:.3f} {unit}"
    if baseline is not None:
        line += f"; {baseline_name}: {baseline:.3f} {unit}; ratio {value / baseline:.2f}x"
    if target:
        line += f"; target {target}: {'met' if ok else 'MISSED'}"
        if not ok:
            MISSED.append(name)
    print(line, flush=True)


def agent_rss(job, env):
    status = run([job, "agent", "status", "--format", "json"], env, stdout=subprocess.PIPE).stdout.decode()
    pid = int(status.split('"pid": ')[1].split(",")[0])
    with open(f"/proc/{pid}/status") as lines:
        for line in lines:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    tsp = shutil.which("tsp")
    if not tsp:
        sys.exit("bench_core: task-spooler is needed for the baselines: apt-get install task-spooler")
    scratch = tempfile.mkdtemp(prefix="job-bench-core-")
    job, bench = install(os.path.join(scratch, "prefix"))
    env = dict(os.environ, JOB_HOME=os.path.join(scratch, "home"), TS_SOCKET=os.path.join(scratch, "tsp.socket"),
               TMPDIR=scratch, TS_MAXFINISHED="100000")
    env.pop("COLUMNS", None)
    env.pop("JOB_AGENT_EXECUTABLE", None)
    reps = 40 if QUICK else 300
    try:
        run([job, "get"], env)  # starts the agent
        run([tsp, "true"], env)  # starts tsp's server
        run([tsp, "-w"], env)

        # (e) the client's start-up against a C program's.
        version, true = alternate([lambda: run([job, "--version"], env), lambda: run(["/bin/true"], env)], reps * 2)
        report("(e) job --version, median", version * 1000, "ms", "/bin/true", true * 1000, "within 1.5x",
               version / true <= 1.5)

        # (a) start then wait, two commands each.
        def job_start_wait():
            jid = run([job, "start", "--quiet", "true"], env, stdout=subprocess.PIPE).stdout.strip()
            run([job, "wait", jid], env)

        def tsp_start_wait():
            tid = run([tsp, "true"], env, stdout=subprocess.PIPE).stdout.strip()
            run([tsp, "-w", tid], env)

        a, t, sh = alternate([job_start_wait, tsp_start_wait, lambda: run(["sh", "-c", "true & wait"], env)], reps)
        report("(a) job start + job wait, median", a * 1000, "ms", "tsp true + tsp -w", t * 1000, "ratio <= 1.0",
               a <= t)
        report("(a) the same against the shell", a * 1000, "ms", "sh -c 'true & wait'", sh * 1000)
        run([job, "remove", "--all"], env)
        run([tsp, "-C"], env)

        # (b) shell loops of starts, then one wait.
        for n in (200, 1000):
            job_loop = f'for i in $(seq {n}); do "{job}" start --quiet true >/dev/null; done; "{job}" wait >/dev/null'
            tsp_loop = f'for i in $(seq {n}); do "{tsp}" true >/dev/null; done; "{tsp}" -w'

            # Nothing is removed between rounds, on either side: tsp -C forgets its finished
            # jobs but leaves their output files, while job remove deletes them, and on ext4
            # without a journal (this machine's disk) each new file then searches past every
            # inode deleted in the last minutes, which would charge the loops for the clean-up.
            b, tb = alternate([lambda: run(["bash", "-c", job_loop], env),
                               lambda: run(["bash", "-c", tsp_loop], env)], 2 if QUICK else 3)
            report(f"(b) a shell loop of {n} job start + job wait", b, "s", f"tsp loop of {n} + tsp -w", tb,
                   "ratio <= 1.0", b <= tb)
        run([job, "remove", "--all"], env)
        run([tsp, "-C"], env)

        # (c) 1,000 jobs through the Swift API from one process.
        n = 200 if QUICK else 1000
        rates = []
        for _ in range(3):
            out = run([bench, "start", str(n)], env, stdout=subprocess.PIPE).stdout.decode()
            rates.append(float(out.split("(")[2].split(" jobs/s")[0]))
        run([job, "remove", "--all"], env)
        c = statistics.median(rates)
        # The machine's own ceiling: bash starting the same shells in the background, each with
        # its two output files, as fast as it can (no store, no monitor, no Ids).
        ceiling = []
        for _ in range(3):
            folder = tempfile.mkdtemp(dir=scratch)
            start = time.perf_counter()
            run(["bash", "-c", f'for i in $(seq {n}); do sh -c true >"{folder}/$i.out" 2>"{folder}/$i.err" & done; wait'],
                env)
            ceiling.append(n / (time.perf_counter() - start))
            shutil.rmtree(folder, ignore_errors=True)
        report(f"(c) {n} jobs through JobClient, start to all finished", c, "jobs/s",
               f"bash starting {n} `sh -c true` with output files", statistics.median(ceiling),
               target=">= 2000 jobs/s", ok=c >= 2000)

        # (d) get with many stored jobs.
        stored = 0
        for many in ((2000, 10000) if QUICK else (10000, 100000)):
            while stored < many:
                run([bench, "start", "1000"], env)
                stored += 1000
            full, newest, base = alternate([
                lambda: run([job, "get"], env),
                lambda: run([job, "get", "--newest", "20"], env),
                lambda: run(["sh", "-c", "true"], env),
            ], 5 if QUICK else 20)
            report(f"(d) job get of {many} jobs, median", full * 1000, "ms", "sh -c true", base * 1000,
                   "<= 300 ms" if many >= 100000 else None, full <= 0.3)
            report(f"(d) job get --newest 20 of {many} jobs, median", newest * 1000, "ms", "sh -c true",
                   base * 1000, "<= 5 ms", newest <= 0.005)
            rss = agent_rss(job, env)
            report(f"(d) agent memory with {many} jobs stored", rss, "MB", target="< 100 MB", ok=rss < 100)
    finally:
        subprocess.run([job, "agent", "stop"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([tsp, "-K"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n{len(MISSED)} targets missed" + (": " + "; ".join(MISSED) if MISSED else ""))


if __name__ == "__main__":
    main()
