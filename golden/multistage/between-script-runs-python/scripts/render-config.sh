#!/bin/sh
set -e
mkdir -p /etc/app
python -c "import yaml; print(yaml.safe_dump({\"port\": 8000}))" > /etc/app/config.yaml
