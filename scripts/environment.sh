# Sourced by the scripts: system packages, then .venv (created once) with the package, its
# engines and the extras named in BOROGLASS_EXTRAS (default "engines").
# System packages, installed here when we may (root with apt-get): graphviz renders
# `verdi node graph generate`; cp2k (Debian's cp2k.psmp 2023.1 with its basis sets and
# pseudopotentials in /usr/share/cp2k) is the ab initio engine; slurm-wlm and munge make the
# one-node Slurm cluster of scripts/slurm.sh (docs/cluster.md).
missing=()
command -v dot >/dev/null || missing+=(graphviz)
command -v cp2k.psmp >/dev/null || missing+=(cp2k)
command -v slurmctld >/dev/null || [ -x /usr/sbin/slurmctld ] || missing+=(slurm-wlm)
command -v munged >/dev/null || [ -x /usr/sbin/munged ] || missing+=(munge)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "note: install ${missing[*]} (e.g. sudo apt-get install ${missing[*]}): graphviz draws provenance graphs, cp2k runs the ab initio workflows, slurm-wlm and munge run the local Slurm cluster" >&2
    fi
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[${BOROGLASS_EXTRAS:-engines}]"
export PATH="$PWD/.venv/bin:$PATH"
export OMP_NUM_THREADS=1
