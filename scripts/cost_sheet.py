"""What a config will cost on a Slurm cluster, before it runs and without its models:

    python scripts/cost_sheet.py --configfile config/flagship.yaml [--profile profiles/slurm] [-d DIR]

Plans the run with the real CLI (`snakemake -n --profile ...`, GRAPHATTN_PLAN_WITHOUT_MODELS=1
so the models need not be here) in DIR (default: the repository, whose results/benchmarks/ of
earlier runs give measured times), then prints per rule the jobs, the Slurm submissions after
the profile's grouping, GPU-hours, CPU-hours and the largest memory request
(graphattn.cost_sheet), and a line that sums them up.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import yaml

from graphattn import cost_sheet, dryrun

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configfile", nargs="+", required=True, type=Path)
    parser.add_argument("--profile", default=REPO / "profiles/slurm", type=Path)
    parser.add_argument("-d", "--directory", default=REPO, type=Path,
                        help="the run's working directory (its results/benchmarks/ are read)")
    args = parser.parse_args()
    snakemake = Path(sys.executable).with_name("snakemake")
    cmd = [str(snakemake), "-n", "--profile", str(args.profile.resolve()), "-s", str(REPO / "Snakefile"),
           "-d", str(args.directory.resolve()), "--configfile", *map(str, args.configfile)]
    env = {**os.environ, "GRAPHATTN_PLAN_WITHOUT_MODELS": "1", "HF_HUB_OFFLINE": "1"}
    planned = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if planned.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{planned.stdout}\n{planned.stderr}")
    alone, groups = dryrun.parse(planned.stdout)
    cores = int(yaml.safe_load((args.profile / "config.yaml").read_text()).get("cores", 1))
    table = cost_sheet.cost_sheet(alone, groups, dryrun.local_rules(REPO / "rules"), args.directory, cores)
    print(cost_sheet.markdown(table))
    print()
    print(cost_sheet.summary(table))


if __name__ == "__main__":
    main()
