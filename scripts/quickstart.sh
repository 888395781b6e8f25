#!/usr/bin/env bash
# Main job: install aiida-boroglass with its engines, set up the embedded AiiDA profile
# (SQLite + ZeroMQ, in ~/.aiida unless AIIDA_PATH says otherwise), register the codes and
# screen xLi2O-(1-x)B2O3 at x = 0.1..0.4 with the fast protocol using real LAMMPS.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/environment.sh
aiida-boroglass setup
aiida-boroglass screen Li2O-B2O3 --x 0.10,0.20,0.30,0.40 --protocol fast --output boroglass-results "$@"
