#!/bin/sh
set -e
git rev-parse HEAD > /tmp/version
exec python app.py
