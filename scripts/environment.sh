# Sourced by the scripts: create .venv (once) and install the package with its engines
# and the extras named in BOROGLASS_EXTRAS (default "engines").
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[${BOROGLASS_EXTRAS:-engines}]"
export PATH="$PWD/.venv/bin:$PATH"
export OMP_NUM_THREADS=1
