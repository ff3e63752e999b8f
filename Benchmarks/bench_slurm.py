#!/usr/bin/env python3
"""Jobs on a Slurm cluster (issue 24), each figure against Slurm's own command in the same run.

Usage: python3 Benchmarks/bench_slurm.py [--quick] [--job PATH]

Brings up the test cluster (`scripts/test-slurm up`, a real slurmctld and slurmd on this
machine), then measures, in a private JOB_HOME, with the `job` the README installs
(`scripts/install` into a scratch prefix) or the one given with --job:

  (a) 200 `job start --scheduler slurm --quiet true` from a shell loop, against 200
      `sbatch --wrap true` (target: <= 1.2x)
  (b) one `job start --scheduler slurm --tasks 200`, against one `sbatch --array=0-199`
      (target: <= 1.2x)
  (c) from a job's end in Slurm to `job wait` returning, median of 20, beside `sbatch --wait`'s
      from the same end to its return (target: <= 1.5 s)
  (d) the agent's CPU and its `squeue` calls per minute while 1,000 jobs wait in Slurm's queue
      (held), over 60 s (targets: <= 5% of a core, <= 60 calls)

Rounds of a figure and its baseline alternate. The cluster is taken down at the end.
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
PORT = "7200"


def job_binary(scratch):
    if "--job" in sys.argv:
        return os.path.abspath(sys.argv[sys.argv.index("--job") + 1])
    prefix = os.path.join(scratch, "prefix")
    subprocess.run([os.path.join(ROOT, "scripts", "install"), prefix], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(prefix, "bin", "job")


def timed(command, env, shell=False):
    began = time.perf_counter()
    subprocess.run(command, env=env, shell=shell, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - began


def main():
    scratch = tempfile.mkdtemp(prefix="job-bench-slurm-")
    # munged wants every folder above its socket searchable by all.
    os.chmod(scratch, 0o755)
    cluster = os.path.join(scratch, "cluster")
    up_env = dict(os.environ, SLURM_TEST_PORT=PORT)
    subprocess.run([os.path.join(ROOT, "scripts", "test-slurm"), "up", cluster], env=up_env, check=True,
                   stdout=subprocess.DEVNULL)
    try:
        run(scratch, cluster)
    finally:
        subprocess.run([os.path.join(ROOT, "scripts", "test-slurm"), "down", cluster], check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def run(scratch, cluster):
    job = job_binary(scratch)
    home = os.path.join(scratch, "home")
    work = os.path.join(scratch, "work")
    os.makedirs(work)
    # A shim first on the agent's PATH counts its squeue calls (figure d).
    shims = os.path.join(scratch, "shims")
    os.makedirs(shims)
    calls = os.path.join(scratch, "squeue-calls")
    with open(os.path.join(shims, "squeue"), "w") as shim:
        shim.write(f"#!/bin/sh\necho >> {calls}\nexec {shutil.which('squeue')} \"$@\"\n")
    os.chmod(os.path.join(shims, "squeue"), 0o755)
    env = dict(os.environ, JOB_HOME=home, SLURM_CONF=os.path.join(cluster, "slurm.conf"),
               PATH=shims + ":" + os.environ["PATH"])
    os.chdir(work)

    def drain():
        # Every job of the cluster gone before the next round, and the agent done recording
        # their ends (a cancelled array's 200 rows, stored under the registry's lock, would
        # otherwise land in the next round's start): the rounds start alike.
        subprocess.run(["scancel", "--user", os.environ.get("USER", "root")], env=env, check=False)
        while subprocess.run(["squeue", "-h"], env=env, capture_output=True, text=True).stdout.strip():
            time.sleep(0.2)
        subprocess.run([job, "wait", "--timeout", "60s"], env=env, stdout=subprocess.DEVNULL, check=False)

    count = 50 if QUICK else 200
    rounds = 1 if QUICK else 3
    print(f"(a) {count} submissions from a shell loop, {rounds} alternating rounds")
    loops = {"job": [], "sbatch": []}
    for _ in range(rounds):
        loops["job"].append(timed(
            f"for i in $(seq {count}); do {job} start --scheduler slurm --quiet true; done", env, shell=True))
        drain()
        loops["sbatch"].append(timed(
            f"for i in $(seq {count}); do sbatch --parsable -o /dev/null --wrap true; done", env, shell=True))
        drain()
    a = statistics.median(loops["job"]) / statistics.median(loops["sbatch"])
    print(f"    job {statistics.median(loops['job']):.2f} s, sbatch {statistics.median(loops['sbatch']):.2f} s: "
          f"{a:.2f}x (target <= 1.2x)")

    # A start of a few milliseconds: more rounds than (a) for a steady median.
    print("(b) one array of 200 tasks, median of " + ("3" if QUICK else "11"))
    arrays = {"job": [], "sbatch": []}
    for _ in range(3 if QUICK else 11):
        arrays["job"].append(timed([job, "start", "--scheduler", "slurm", "--tasks", "200", "--quiet", "true"], env))
        drain()
        arrays["sbatch"].append(timed(["sbatch", "--parsable", "--array=0-199", "-o", "/dev/null", "--wrap", "true"],
                                      env))
        drain()
    b = statistics.median(arrays["job"]) / statistics.median(arrays["sbatch"])
    print(f"    job {statistics.median(arrays['job']) * 1000:.1f} ms, sbatch "
          f"{statistics.median(arrays['sbatch']) * 1000:.1f} ms: {b:.2f}x (target <= 1.2x)")

    samples = 5 if QUICK else 20
    print(f"(c) from a job's end to the wait's return, median of {samples}")
    delays = {"job wait": [], "sbatch --wait": []}
    stamp = os.path.join(work, "ended")
    script = f"sleep 1; date +%s.%N > {stamp}"
    for _ in range(samples):
        out = subprocess.run([job, "start", "--scheduler", "slurm", "--quiet", script], env=env, check=True,
                             capture_output=True, text=True).stdout.strip()
        subprocess.run([job, "wait", out], env=env, check=True, stdout=subprocess.DEVNULL)
        delays["job wait"].append(time.time() - float(open(stamp).read()))
        subprocess.run(["sbatch", "--wait", "-o", "/dev/null", "--wrap", script], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        delays["sbatch --wait"].append(time.time() - float(open(stamp).read()))
    for name, values in delays.items():
        print(f"    {name}: {statistics.median(values):.2f} s")
    c = statistics.median(delays["job wait"])
    print(f"    job wait {c:.2f} s after the end (target <= 1.5 s)")

    pending = 200 if QUICK else 1000
    window = 15 if QUICK else 60
    print(f"(d) the agent while {pending} jobs are held in Slurm's queue, over {window} s")
    subprocess.run(
        f"for i in $(seq {pending}); do {job} start --scheduler slurm --sbatch-option --hold --quiet true; done",
        env=env, shell=True, check=True, stdout=subprocess.DEVNULL)
    pid = subprocess.run([job, "agent", "status", "--format", "json"], env=env, check=True, capture_output=True,
                         text=True).stdout
    import json
    pid = json.loads(pid)["pid"]
    time.sleep(5)

    def cpu():
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    open(calls, "w").close()
    before = cpu()
    time.sleep(window)
    used = cpu() - before
    made = sum(1 for _ in open(calls))
    share = used / window * 100
    per_minute = made * 60 / window
    print(f"    agent CPU {share:.1f}% of a core (target <= 5%), squeue {per_minute:.0f} calls a minute "
          f"(target <= 60)")
    subprocess.run([job, "stop", "--all"], env=env, check=False, stdout=subprocess.DEVNULL)
    # Drained first: its `job wait` would start a new agent after the stop, left running once
    # the scratch folder is gone.
    drain()
    subprocess.run([job, "agent", "stop"], env=env, check=False, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
