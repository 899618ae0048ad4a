FROM python:3.12-slim
RUN --mount=type=cache,target=/root/.cache/pip <<EOF
set -e
pip install -r requirements.txt
python -m compileall -q /app
EOF
