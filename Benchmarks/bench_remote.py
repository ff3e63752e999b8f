#!/usr/bin/env python3
"""Benchmarks of remote jobs against pdsh, clush and plain ssh, on the project's test computers.

Usage: sudo python3 Benchmarks/bench_remote.py [--quick] [--computers N]

Starts N test computers (default 20; the issue's figure is 200) with `job` installed
(scripts/test-computers: real sshd servers on loopback addresses), then prints, each against
baselines measured in the same run:
  - `job invoke` of `hostname` on N computers cold (no shared connection) against
    `pdsh -R ssh -f 32` and `clush -f 32` (which never share connections), and warm, and the
    agent's peak memory meanwhile;
  - the same warm with `--durable` (each child a job in the computer's agent), against without;
  - 1 GB from one computer through `job invoke --as-job` and `job receive` to /dev/null, plain
    and `--durable`, against `ssh HOST 'head -c 1G /dev/zero' > /dev/null`.
Needs root (the test computers add users), pdsh and clustershell (installed when missing).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = "--quick" in sys.argv
COUNT = int(sys.argv[sys.argv.index("--computers") + 1]) if "--computers" in sys.argv else 20
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import build, run, timed  # noqa: E402


def agent_rss(env):
    """The agent's resident memory in MB, from /proc (0 when it is not running)."""
    try:
        with open(os.path.join(env["JOB_HOME"], "agent.lock")) as lock:
            pid = lock.read().strip()
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def peak_rss(env, fn):
    """Runs fn while sampling the agent's memory every 10 ms; returns the peak in MB."""
    peak = [agent_rss(env)]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], agent_rss(env))
            time.sleep(0.01)
    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        fn()
    finally:
        done.set()
        sampler.join()
    return peak[0]


def main():
    for tool, package in (("pdsh", "pdsh"), ("clush", "clustershell")):
        if not shutil.which(tool):
            subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, stdout=subprocess.DEVNULL)
    job, _ = build()
    scratch = tempfile.mkdtemp(prefix="job-bench-remote-")
    computers_dir = os.path.join(scratch, "computers")
    count = COUNT
    server = subprocess.Popen([os.path.join(ROOT, "scripts", "test-computers"), "serve", computers_dir, str(count),
                               "1" if count > 89 else "150", job], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        if server.stdout.readline().strip() != "ready":
            sys.exit("the test computers could not be set up")
        config = os.path.join(computers_dir, "ssh_config")
        env = dict(os.environ, JOB_HOME=os.path.join(scratch, "home"), JOB_SSH_CONFIG=config,
                   PDSH_SSH_ARGS_APPEND=f"-F {config}")
        names = [f"server{i:02d}" for i in range(1, count + 1)]
        reps = 3 if QUICK else 10
        run([job, "get"], env)

        def invoke(*extra):
            run([job, "invoke", *extra, "--computer", ",".join(names), "hostname"], env)

        def cold_invoke():
            # Stopping the agent closes the shared connections: the next invoke is cold.
            run([job, "agent", "stop"], env)
            run([job, "get"], env)
            start = time.perf_counter()
            invoke()
            return time.perf_counter() - start
        cold = statistics.median([cold_invoke() for _ in range(3 if QUICK else 5)])
        warm = timed(invoke, reps)
        memory = peak_rss(env, invoke)
        pdsh = timed(lambda: run(["pdsh", "-R", "ssh", "-f", "32", "-w", ",".join(names), "hostname"], env), reps)
        clush = timed(lambda: run(["clush", "-f", "32", "-o", f"-F {config}", "-w", ",".join(names), "hostname"],
                                  env), reps)
        print(f"job invoke of hostname on {count} computers, cold (no shared connection), median: "
              f"{cold * 1000:.0f} ms; pdsh -R ssh -f 32: {pdsh * 1000:.0f} ms (ratio {cold / pdsh:.2f}x, "
              f"target at most 1x); clush -f 32: {clush * 1000:.0f} ms (ratio {cold / clush:.2f}x)", flush=True)
        print(f"job invoke of hostname on {count} computers, warm, median of {reps}: {warm * 1000:.0f} ms "
              f"(target under 1 s; {cold / warm:.1f}x faster than cold); the agent's peak memory meanwhile: "
              f"{memory:.0f} MB", flush=True)
        # The floor of a warm fan-out here: plain ssh, every computer at once over its own warm
        # shared connection, no wrapper, no throttle, no job.
        control = os.path.join(scratch, "control")
        os.makedirs(control, exist_ok=True)
        mux = f"-o ControlMaster=auto -o ControlPath={control}/%C -o ControlPersist=120"
        raw_loop = " ".join(f"ssh -F {config} {mux} {name} hostname >/dev/null &" for name in names) + " wait"
        run(["sh", "-c", raw_loop], env)
        raw = timed(lambda: run(["sh", "-c", raw_loop], env), reps)
        print(f"the floor of a warm fan-out here: ssh over warm shared connections, all {count} at once: "
              f"{raw * 1000:.0f} ms (job's warm invoke: {warm / raw:.2f}x of it)", flush=True)
        durable = timed(lambda: invoke("--durable"), reps)
        plain = timed(invoke, reps)
        print(f"job invoke --durable of hostname on {count} computers, warm, median of {reps}: "
              f"{durable * 1000:.0f} ms; without --durable: {plain * 1000:.0f} ms (ratio {durable / plain:.2f}x)",
              flush=True)

        size = 100_000_000 if QUICK else 1_000_000_000
        # The stored output goes to tmpfs when there is room, as in bench.py's (d): on this
        # machine's disk a 1 GB write varies from 0.9 s to 3.3 s between runs.
        if os.path.isdir("/dev/shm") and shutil.disk_usage("/dev/shm").free > 3 * size:
            shm_home = tempfile.mkdtemp(prefix="job-bench-", dir="/dev/shm")
            run([job, "agent", "stop"], env)
            env = dict(env, JOB_HOME=os.path.join(shm_home, "home"))
        command = f"head -c {size} /dev/zero"

        def through_job(*extra):
            jid = run([job, "invoke", *extra, "--computer", "server01", "--as-job", "--quiet", command], env,
                      stdout=subprocess.PIPE).stdout.decode().strip()
            run([job, "wait", jid], env)
            run([job, "receive", jid], env)
            run([job, "remove", jid], env)
        s = timed(lambda: run(["ssh", "-F", config, "server01", command], env), 3)
        j = timed(through_job, 3)
        d = timed(lambda: through_job("--durable"), 3)
        print(f"{size // 1_000_000} MB from one computer through job invoke + job receive: {j:.3f} s; "
              f"with --durable: {d:.3f} s; ssh HOST CMD > /dev/null: {s:.3f} s (ratios {j / s:.2f}x and "
              f"{d / s:.2f}x, target for --durable within 1.2x)", flush=True)
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
