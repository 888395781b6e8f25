#!/usr/bin/env bash
# Test suite: install the package with engines and test extras, then run pytest.
# Tests make their own AiiDA profiles under a temporary AIIDA_PATH; the services test uses
# the PostgreSQL and RabbitMQ servers on localhost.
set -euo pipefail
cd "$(dirname "$0")/.."
BOROGLASS_EXTRAS="engines,tests" source scripts/environment.sh
# Two workers (the machine's cores), one module per worker at a time: a module's fixtures
# (an engine run shared by its tests) run once. BOROGLASS_TEST_WORKERS=0 runs in one process.
exec python -m pytest -n "${BOROGLASS_TEST_WORKERS:-2}" --dist loadscope "$@"
