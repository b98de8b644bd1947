"""py-spy profiles of the gunicorn workers (BENCH_PROFILE=1), and a text summary of each."""

import collections
import contextlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.server import ROOT


@contextlib.contextmanager
def profiled(ctx, name):
    """Record a py-spy profile of every gunicorn worker while the block runs.

    Written as speedscope JSON (open it in speedscope, offline too), summarised in a .txt
    beside it: the functions the workers spent most samples in, by self and by total time.
    """
    out_dir = Path(ctx.options.results_dir) / "profiles"
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"{ctx.prefix}-{name}.speedscope.json"
    spy = Path(sys.executable).parent / "py-spy"
    command = [
        str(spy if spy.exists() else "py-spy"),
        "record",
        "--pid",
        str(ctx.server.process.pid),
        "--subprocesses",
        "--nonblocking",
        "--rate",
        "250",
        "--format",
        "speedscope",
        "--output",
        str(output),
    ]
    with open(out_dir / f"{ctx.prefix}-{name}.py-spy.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    time.sleep(1)  # let py-spy attach
    try:
        yield output
    finally:
        process.send_signal(signal.SIGINT)  # py-spy writes the profile and exits
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    summary_path = output.with_suffix("").with_suffix(".txt")
    summary_path.write_text(profile_summary(output))
    ctx.log(f"    profile: {output.relative_to(ROOT)} (summary: {summary_path.name})")


def profile_summary(path, top=25):
    """Return the functions with the most samples, self and total, from a speedscope file."""
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return "no profile was written\n"
    frames = document["shared"]["frames"]
    own, total, samples = collections.Counter(), collections.Counter(), 0
    for profile in document["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if not stack:
                continue
            samples += weight
            own[stack[-1]] += weight
            for index in set(stack):
                total[index] += weight
    ours = collections.Counter(
        {index: count for index, count in total.items() if _is_project(frames[index])}
    )
    lines = [f"{samples:.1f} s of samples, idle threads excluded", "", "self:"]
    lines += _ranked(own, frames, samples, top)
    lines += ["", "total (self and what it calls), the project's own code:"]
    lines += _ranked(ours, frames, samples, top)
    lines += ["", "total, everything:"]
    lines += _ranked(total, frames, samples, top)
    return "\n".join(lines) + "\n"


def _is_project(frame):
    path = frame.get("file", "")
    return path.startswith(str(ROOT)) and "/.venv/" not in path and "/bench/" not in path


def _ranked(counter, frames, samples, top):
    rows = []
    for index, count in counter.most_common(top):
        frame = frames[index]
        where = f"{frame.get('file', '')}:{frame.get('line', '')}".replace(str(ROOT) + "/", "")
        rows.append(f"{100 * count / max(samples, 1):6.1f}%  {frame['name']}  ({where})")
    return rows
