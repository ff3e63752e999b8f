#!/usr/bin/env python3
"""Benchmarks of persistent sessions, here and on a warm test computer.

Usage: sudo python3 Benchmarks/bench_sessions.py [--quick]

Builds the release binaries, starts one test computer (scripts/test-computers), and prints,
each against its baseline measured in the same run:
  - through the Swift API (Benchmarks/job-bench): N short commands (`true`), each run and
    waited for in turn, in one session, against N `start` (here) or N `invoke --computer`
    (on the warm test computer); targets: under 5 ms per session command here, under 10 ms
    there;
  - through the CLI: the same loops as a shell script runs them (`job start --session S -q
    true` + `job wait`, against `job start -q true` + `job wait`; `job invoke --session S
    true` against `job invoke --computer server01 true`).
N is 1,000 (200 with --quick). Needs root for the test computer.
"""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = "--quick" in sys.argv
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import build, run  # noqa: E402


def per_command(env, script, count):
    """Milliseconds per command of a shell loop that runs `count` commands."""
    start = time.perf_counter()
    subprocess.run(["sh", "-c", script], env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000 / count


def main():
    job, bench = build()
    count = 200 if QUICK else 1000
    scratch = tempfile.mkdtemp(prefix="job-bench-sessions-")
    computers = os.path.join(scratch, "computers")
    server = subprocess.Popen([os.path.join(ROOT, "scripts", "test-computers"), "serve", computers, "1", "180"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if server.stdout.readline().strip() != "ready":
            sys.exit("the test computer could not be set up")
        env = dict(os.environ, JOB_HOME=os.path.join(scratch, "home"),
                   JOB_SSH_CONFIG=os.path.join(computers, "ssh_config"), JOB=job)
        run([job, "get"], env)
        # Warm the connection to the test computer.
        run([job, "invoke", "--computer", "server01", "true"], env)

        print(f"Through the Swift API, {count} commands each:", flush=True)
        for computer, target in (("localhost", 5), ("server01", 10)):
            out = subprocess.run([bench, "session", str(count), computer], env=env, check=True,
                                 capture_output=True, text=True).stdout
            print("  " + out.strip().replace("\n", "\n  "), flush=True)
            median = float(out.split("median ")[1].split(" ms")[0])
            print(f"  target under {target} ms per session command on {computer}: "
                  f"{'met' if median < target else 'MISSED'} ({median:.2f} ms)", flush=True)

        print(f"Through the CLI, {count} commands each (a shell loop):", flush=True)
        run([job, "session", "new", "--computer", "localhost", "--name", "here"], env)
        run([job, "session", "new", "--computer", "server01", "--name", "there"], env)
        loop = f'i=0; while [ $i -lt {count} ]; do i=$((i+1)); '
        session = per_command(env, loop + 'id=$("$JOB" start --session here -q true); "$JOB" wait $id; done', count)
        alone = per_command(env, loop + 'id=$("$JOB" start -q true); "$JOB" wait $id; done', count)
        print(f"  job start --session + job wait: {session:.2f} ms; job start + job wait: {alone:.2f} ms "
              f"(ratio {alone / session:.2f}x)", flush=True)
        remote = per_command(env, loop + '"$JOB" invoke --session there true; done', count)
        invoke = per_command(env, loop + '"$JOB" invoke --computer server01 true; done', count)
        print(f"  job invoke --session (server01): {remote:.2f} ms; job invoke --computer server01 (warm): "
              f"{invoke:.2f} ms (ratio {invoke / remote:.2f}x)", flush=True)
        run([job, "agent", "stop"], env)
    finally:
        server.stdin.close()
        server.wait()
        subprocess.run(["rm", "-rf", scratch])


if __name__ == "__main__":
    main()
