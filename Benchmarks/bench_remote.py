#!/usr/bin/env python3
"""Benchmarks of remote jobs against pdsh and plain ssh, on the project's test computers.

Usage: sudo python3 Benchmarks/bench_remote.py [--quick]

Starts 20 test computers (scripts/test-computers: real sshd servers on loopback addresses),
then prints, each against baselines measured in the same run:
  - `job invoke` of `true` on 20 computers (twice: the second run is the "warm" one),
    against `pdsh -R ssh -w server[01-20] true` and a plain loop of `ssh HOST true &`;
  - 1 GB from one computer through `job invoke --as-job` and `job receive` to /dev/null,
    against `ssh HOST 'head -c 1G /dev/zero' > /dev/null`.
Needs root (the test computers add users) and pdsh (installed when missing).
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import build, run, timed  # noqa: E402


def main():
    if not shutil.which("pdsh"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "pdsh"], check=True, stdout=subprocess.DEVNULL)
    job, _ = build()
    scratch = tempfile.mkdtemp(prefix="job-bench-remote-")
    computers_dir = os.path.join(scratch, "computers")
    count = 20
    server = subprocess.Popen([os.path.join(ROOT, "scripts", "test-computers"), "serve", computers_dir, str(count),
                               "150"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if server.stdout.readline().strip() != "ready":
            sys.exit("the test computers could not be set up")
        config = os.path.join(computers_dir, "ssh_config")
        env = dict(os.environ, JOB_HOME=os.path.join(scratch, "home"), JOB_SSH_CONFIG=config,
                   PDSH_SSH_ARGS_APPEND=f"-F {config}")
        names = [f"server{i:02d}" for i in range(1, count + 1)]
        reps = 3 if QUICK else 10
        run([job, "get"], env)

        def invoke():
            run([job, "invoke", "--computer", ",".join(names), "true"], env)

        def cold_invoke():
            # Stopping the agent closes the shared connections: the next invoke is cold.
            run([job, "agent", "stop"], env)
            run([job, "get"], env)
            start = time.perf_counter()
            invoke()
            return time.perf_counter() - start
        cold = statistics.median([cold_invoke() for _ in range(3 if QUICK else 5)])
        warm = timed(invoke, reps)
        pdsh = timed(lambda: run(["pdsh", "-R", "ssh", "-w", f"server[01-{count}]", "true"], env), reps)
        loop = " ".join(f'ssh -F {config} {name} true &' for name in names) + " wait"
        ssh_loop = timed(lambda: run(["sh", "-c", loop], env), reps)
        print(f"job invoke of true on {count} computers, cold (no shared connection), median: {cold * 1000:.0f} ms "
              f"(ratio to pdsh {cold / pdsh:.2f}x)", flush=True)
        print(f"job invoke of true on {count} computers, median of {reps}: {warm * 1000:.0f} ms; "
              f"pdsh -R ssh: {pdsh * 1000:.0f} ms (ratio {warm / pdsh:.2f}x); "
              f"ssh HOST true & loop: {ssh_loop * 1000:.0f} ms (ratio {warm / ssh_loop:.2f}x)", flush=True)

        size = 100_000_000 if QUICK else 1_000_000_000
        # The stored output goes to tmpfs when there is room, as in bench.py's (d): on this
        # machine's disk a 1 GB write varies from 0.9 s to 3.3 s between runs.
        if os.path.isdir("/dev/shm") and shutil.disk_usage("/dev/shm").free > 3 * size:
            shm_home = tempfile.mkdtemp(prefix="job-bench-", dir="/dev/shm")
            run([job, "agent", "stop"], env)
            env = dict(env, JOB_HOME=os.path.join(shm_home, "home"))
        command = f"head -c {size} /dev/zero"

        def through_job():
            jid = run([job, "invoke", "--computer", "server01", "--as-job", "--quiet", command], env,
                      stdout=subprocess.PIPE).stdout.decode().strip()
            run([job, "wait", jid], env)
            run([job, "receive", jid], env)
            run([job, "remove", jid], env)
        j = timed(through_job, 3)
        s = timed(lambda: run(["ssh", "-F", config, "server01", command], env), 3)
        print(f"{size // 1_000_000} MB from one computer through job invoke + job receive: {j:.3f} s; "
              f"ssh HOST CMD > /dev/null: {s:.3f} s (ratio {j / s:.2f}x)", flush=True)
    finally:
        homes = [os.path.join(scratch, "home")] + [
            os.path.join("/dev/shm", name, "home") for name in os.listdir("/dev/shm")
            if name.startswith("job-bench-")] if os.path.isdir("/dev/shm") else [os.path.join(scratch, "home")]
        for home in homes:
            subprocess.run([job, "agent", "stop"], env=dict(os.environ, JOB_HOME=home),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if home.startswith("/dev/shm/"):
                shutil.rmtree(os.path.dirname(home), ignore_errors=True)
        server.stdin.close()
        server.wait()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
