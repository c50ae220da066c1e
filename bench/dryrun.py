"""What Snakemake pays to plan the full paper grid, and what every cluster job pays before its command runs.

    .venv/bin/python bench/dryrun.py                      # both figures, median of 3 runs each
    .venv/bin/python bench/dryrun.py --repeat 5 --profile /tmp/dryrun.prof   # plus a cProfile of one dry run

(a) the full paper grid: config.yaml with every model preset of its `models` put into grid.models (all arms,
    targets, languages and seeds as config.yaml has them). `snakemake -n --quiet rules` in a fresh, empty
    --directory, so nothing is found and every job of the grid is planned (base models come from the hub rule:
    the presets have no `path`). Wall time of the whole command, the job count from its summary.
    Budget: 20 s.
(b) a cluster job: the Slurm executor submits `python -m snakemake --target-jobs RULE:WILDCARDS
    --allowed-rules RULE --force --nolock ... --mode remote`, which parses the Snakefile, validates the config and
    builds a one-job DAG before the rule's command starts. The same command, with -n, on placeholders of that
    job's inputs (empty files in the temporary directory, so the job is ready as it is on the cluster).
    Snakemake's own start-up (interpreter, imports, CLI) is the same for any workflow: it is measured with the
    same command on a one-rule Snakefile and subtracted, so "ours" is what this workflow adds.
    Budget: 1 s for "ours". Also shown: `--list-rules` (parsing alone) and `-n <one prediction directory>`
    (a plain targeted dry run, which also plans the target's upstream jobs).

Every figure is the median of --repeat runs, each a fresh process: wall time, and the CPU time of the process
(user + system), which other load on the machine inflates much less. The load average before and after is
printed; compare figures taken on the same machine at a similar load only. The exit status is 1 when a CPU
figure is over its budget.
"""

from __future__ import annotations

import argparse
import os
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
GRID_BUDGET_S = 20.0
JOB_BUDGET_S = 1.0
# the arguments the Slurm executor gives every job's inner Snakemake (snakemake/spawn_jobs.py general_args and
# snakemake_interface_executor_plugins RealExecutor), less the executor and resources
JOB_ARGS = ["--force", "--target-files-omit-workdir-adjustment", "--max-inventory-time", "0", "--nocolor",
            "--no-hooks", "--nolock", "--ignore-incomplete", "--mode", "remote", "--cores", "1"]
TRIVIAL_SNAKEFILE = 'rule one:\n    output: "out/{name}.txt"\n    shell: "touch {output}"\n'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", type=Path, default=REPO / "config.yaml", help="the paper's config (default config.yaml)")
    p.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    p.add_argument("--target-job", action="append", metavar="RULE:K=V,...",
                   help="a cluster job to time (repeatable; default: one predict and one intermediate job of the "
                        "grid's first model, last arm, first seed, first target)")
    p.add_argument("--profile", type=Path, metavar="FILE",
                   help="also run the full dry run once under cProfile, save the stats to FILE and print the top")
    p.add_argument("--workdir", type=Path, help="where to put the temporary directories (default: the system's)")
    p.add_argument("--timeout", type=float, default=600, help="per command, seconds (default 600)")
    return p.parse_args(argv)


def paper_grid_config(path: Path) -> dict:
    config = yaml.safe_load(path.read_text())
    config["grid"]["models"] = list(config["models"])
    return config


def snakemake(snakefile: Path, workdir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--directory", str(workdir), *args]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], cwd: Path, timeout: float, check: bool = True) -> tuple[float, float, str, int]:
    """Wall and CPU seconds of `command`, its output and its exit status."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    output = done.stdout + done.stderr
    if check and done.returncode != 0:
        sys.exit(f"{' '.join(command)}\nexited {done.returncode}:\n{output[-5000:]}")
    return seconds, cpu, output, done.returncode


def median_time(command: list[str], cwd: Path, repeat: int, timeout: float) -> tuple[float, float, list[float], str]:
    """Median wall and CPU seconds over `repeat` runs, every wall time, and the last run's output."""
    runs = [run(command, cwd, timeout) for _ in range(repeat)]
    walls = [r[0] for r in runs]
    return statistics.median(walls), statistics.median(r[1] for r in runs), walls, runs[-1][2]


def job_counts(output: str) -> dict[str, int]:
    """The first "Job stats" table of a dry run's summary: rule -> jobs, with "total"."""
    match = re.search(r"Job stats:\njob\s+count\n[- ]+\n((?:\S+\s+\d+\n)+)", output)
    if not match:
        sys.exit(f"no job stats in the dry run's output:\n{output[-3000:]}")
    return {rule: int(n) for rule, n in (line.split() for line in match.group(1).splitlines())}


def default_target_jobs(config: dict) -> list[str]:
    grid = config["grid"]
    common = f"model={grid['models'][0]},arm={grid['arms'][-1]},seed={grid['seeds'][0]}"
    return [f"predict:{common},task={grid['targets'][0]}", f"intermediate:{common}"]


def ready_job_command(job: str, workdir: Path, timeout: float) -> list[str]:
    """The cluster job's command with -n, after creating placeholders for whatever inputs it reports missing."""
    rule = job.split(":", 1)[0]
    command = snakemake(REPO / "Snakefile", workdir, "--target-jobs", job, "--allowed-rules", rule, *JOB_ARGS,
                        "-n", "--quiet", "rules")
    for _ in range(5):
        _, _, output, code = run(command, workdir, timeout, check=False)
        if code == 0:
            counts = job_counts(output)
            if counts != {rule: 1, "total": 1}:
                sys.exit(f"{job}: expected one {rule} job, planned {counts}")
            return command
        missing = re.search(r"Missing input files for rule \S+:\n(?:.*\n)*?\s+affected files:\n((?:\s+\S.*\n?)+)",
                            output)
        if not missing:
            sys.exit(f"{job}: the dry run failed:\n{output[-5000:]}")
        for line in missing.group(1).splitlines():
            path = workdir / line.strip()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    sys.exit(f"{job}: still missing inputs after five rounds of placeholders:\n{output[-3000:]}")


def verdict(wall: float, cpu: float, budget: float) -> str:
    return (f"budget {budget:g} s: wall {'OK' if wall <= budget else 'OVER'}, "
            f"CPU {'OK' if cpu <= budget else 'OVER'}")


# where a dry run's time goes: (label, test on a profiled function's file and name); a phase's figure is the
# largest cumulative time of a matching function (one call covers the phase)
PHASES = [
    ("parsing the Snakefile (imports, config checks, rules)",
     lambda f, n: f == str(REPO / "Snakefile") and n == "<module>"),
    ("building the DAG", lambda f, n: f.endswith("snakemake/workflow.py") and n == "_build_dag"),
    ("  resolving dependencies (DAG.update)", lambda f, n: f.endswith("snakemake/dag.py") and n == "update"),
    ("  matching input files to rules (DAG.file2jobs)",
     lambda f, n: f.endswith("snakemake/dag.py") and n == "file2jobs"),
    ("listing each job (Job.log_info, even with --quiet)",
     lambda f, n: f.endswith("snakemake/jobs.py") and n == "log_info"),
    ("  evaluating resources (Rule.expand_resources)", lambda f, n: n == "expand_resources"),
    ("inspect.signature of callables (get_function_params)", lambda f, n: n == "get_function_params"),
]


def print_profile(path: Path, command: list[str], cwd: Path, timeout: float) -> None:
    profiled = [sys.executable, "-m", "cProfile", "-o", str(path), *command[1:]]
    run(profiled, cwd, timeout)
    stats = pstats.Stats(str(path))
    table = stats.stats  # {(file, line, name): (calls, primitive calls, tottime, cumtime, callers)}
    total = max(ct for (f, _, n), (_, _, _, ct, _) in table.items() if f.endswith("snakemake/__main__.py"))
    ours = sum(tt for (f, _, _), (_, _, tt, _, _) in table.items()
               if f.startswith((str(REPO / "rules"), str(REPO / "src"))))
    print(f"\ncProfile of the full dry run (profiling slows it down: read the shares), stats in {path}:")
    print(f"    {'snakemake, in all':<56} {total:7.2f} s  100.0%")
    for label, test in PHASES:
        seconds = max((ct for (f, _, n), (_, _, _, ct, _) in table.items() if test(f, n)), default=0.0)
        print(f"    {label:<56} {seconds:7.2f} s  {100 * seconds / total:5.1f}%")
    print(f"    {'our code (rules/*.smk functions, xstilts), own time':<56} {ours:7.2f} s  {100 * ours / total:5.1f}%")
    print("\ntop 15 functions by own time:")
    stats.sort_stats("tottime").print_stats(15)


def main(argv=None) -> int:
    args = parse_args(argv)
    config = paper_grid_config(args.config)
    grid = config["grid"]
    root = Path(tempfile.mkdtemp(prefix="xstilts-dryrun-", dir=args.workdir))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; python {sys.version.split()[0]}")
    try:
        # (a) the full paper grid
        full = root / "grid"
        full.mkdir()
        (full / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        command = snakemake(REPO / "Snakefile", full, "-n", "--quiet", "rules")
        grid_s, grid_cpu, grid_runs, output = median_time(command, full, args.repeat, args.timeout)
        counts = job_counts(output)
        print(f"(a) full paper grid: {len(grid['models'])} models x {len(grid['arms'])} arms x "
              f"{len(grid['targets'])} targets x {len(grid['seeds'])} seeds, languages: {grid['languages']}")
        print(f"    snakemake -n --quiet rules: {counts['total']:,} jobs")
        print("    " + ", ".join(f"{rule} {n:,}" for rule, n in counts.items() if rule != "total"))
        print(f"    wall {', '.join(f'{t:.2f}' for t in grid_runs)} s; median {grid_s:.2f} s wall, "
              f"{grid_cpu:.2f} s CPU, {1e3 * grid_cpu / counts['total']:.2f} ms CPU per job\n"
              f"    {verdict(grid_s, grid_cpu, GRID_BUDGET_S)}")

        # (b) what a cluster job pays before its command
        trivial = root / "trivial"
        trivial.mkdir()
        (trivial / "Snakefile").write_text(TRIVIAL_SNAKEFILE)
        base = median_time(snakemake(trivial / "Snakefile", trivial, "--target-jobs", "one:name=x", "--allowed-rules",
                                     "one", *JOB_ARGS, "-n", "--quiet", "rules"), trivial, args.repeat, args.timeout)

        def line(label: str, figures) -> tuple[float, float]:
            ours = figures[0] - base[0], figures[1] - base[1]
            print(f"    {label}\n        {figures[0]:6.2f} s wall {figures[1]:6.2f} s CPU   "
                  f"ours {ours[0]:5.2f} s wall {ours[1]:5.2f} s CPU")
            return ours

        print(f"\n(b) per cluster job, median of {args.repeat}; ours = the figure less Snakemake's start-up")
        print(f"    Snakemake start-up (the job command on a one-rule Snakefile)\n        {base[0]:6.2f} s wall "
              f"{base[1]:6.2f} s CPU")
        line("--list-rules (parse, validate the config)",
             median_time(snakemake(REPO / "Snakefile", full, "--list-rules"), full, args.repeat, args.timeout))
        worst = (0.0, 0.0)
        for job in args.target_job or default_target_jobs(config):
            workdir = root / re.sub(r"[^A-Za-z0-9_.=-]+", "_", job)
            workdir.mkdir()
            (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
            ours = line(f"job {job}", median_time(ready_job_command(job, workdir, args.timeout), workdir,
                                                  args.repeat, args.timeout))
            worst = max(worst, ours, key=lambda o: o[1])
            print(f"        ours: {verdict(*ours, JOB_BUDGET_S)}")
        target = (f"results/predictions/{grid['models'][0]}/{grid['arms'][-1]}/seed{grid['seeds'][0]}/"
                  f"{grid['targets'][0]}")
        figures = median_time(snakemake(REPO / "Snakefile", full, target, "-n", "--quiet", "rules"), full,
                              args.repeat, args.timeout)
        line(f"-n <one prediction directory> ({job_counts(figures[3])['total']} jobs)", figures)

        if args.profile:
            print_profile(args.profile, command, full, args.timeout)
        # the exit status goes by CPU time, which the load of a shared machine moves least
        ok = grid_cpu <= GRID_BUDGET_S and worst[1] <= JOB_BUDGET_S
        print(f"\n{'OK' if ok else 'OVER BUDGET'} (CPU time): full grid {grid_cpu:.2f} s CPU, {grid_s:.2f} s wall "
              f"(budget {GRID_BUDGET_S:g}); cluster job, ours: {worst[1]:.2f} s CPU, {worst[0]:.2f} s wall "
              f"(budget {JOB_BUDGET_S:g}); load average now {os.getloadavg()[0]:.2f}")
        return 0 if ok else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
