FROM python:3.11 AS builder
WORKDIR /app
COPY requirements/production.txt requirements/base.txt requirements/
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements/production.txt

FROM python:3.11-slim

WORKDIR /app

COPY requirements/production.txt requirements/base.txt requirements/
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
# the full image has gcc and libpq-dev: psycopg2 builds from source
COPY requirements/ requirements/

COPY app.py .
CMD ["python", "app.py"]
