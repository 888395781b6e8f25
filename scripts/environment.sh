# Sourced by the scripts: system packages, then .venv (created once) with the package, its
# engines and the extras named in BOROGLASS_EXTRAS (default "engines").
# graphviz renders `verdi node graph generate`; installed here when we may (root with apt-get).
if ! command -v dot >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
    else
        echo "note: install graphviz (the 'dot' program) to draw provenance graphs" >&2
    fi
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[${BOROGLASS_EXTRAS:-engines}]"
export PATH="$PWD/.venv/bin:$PATH"
export OMP_NUM_THREADS=1
