#!/bin/sh
set -e
python -c "import app"
exec "$@"
