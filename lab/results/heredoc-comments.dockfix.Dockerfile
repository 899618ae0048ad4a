# syntax=docker/dockerfile:1.4
FROM python:3.11-slim

RUN apt-get update && apt-get install --no-install-recommends -y \
    # tini reaps zombie processes
    tini \
    # procps gives ps for debugging
    procps \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv

COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip <<EOF
set -e
pip install -r requirements.txt
python -c "import yaml; print('PyYAML', yaml.__version__)"
EOF

COPY . .

RUN <<EOT cat > /srv/BUILD_INFO
built with a heredoc
EOT

ENTRYPOINT ["tini", "--"]
CMD ["python", "main.py"]
