#!/usr/bin/env bash
# Test suite: install the package with engines and test extras, then run pytest.
# Tests make their own AiiDA profiles under a temporary AIIDA_PATH; the services test uses
# the PostgreSQL and RabbitMQ servers on localhost.
set -euo pipefail
cd "$(dirname "$0")/.."
BOROGLASS_EXTRAS="engines,tests" source scripts/environment.sh
exec python -m pytest "$@"
