FROM python:3.11 AS builder
ENV POETRY_VERSION=1.8.3
RUN --mount=type=cache,target=/root/.cache/pip pip install "poetry==$POETRY_VERSION"
WORKDIR /srv
COPY --from=ghcr.io/astral-sh/uv:0.13.7 /uv /uvx /bin/
RUN uv venv --python /usr/local/bin/python /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY pyproject.toml poetry.lock ./
RUN --mount=type=cache,target=/root/.cache/pypoetry poetry config virtualenvs.create false \
    && poetry install --no-interaction --no-ansi --no-root
COPY . .
RUN --mount=type=cache,target=/root/.cache/pypoetry poetry config virtualenvs.create false \
    && poetry install --no-interaction --no-ansi

FROM python:3.11-slim

ENV POETRY_VERSION=1.8.3

WORKDIR /srv
COPY . .
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"

CMD ["python", "-m", "service"]
