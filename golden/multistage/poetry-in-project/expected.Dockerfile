FROM python:3.11-slim-bookworm AS builder
ENV POETRY_VIRTUALENVS_IN_PROJECT=true
RUN pip install poetry
WORKDIR /app
COPY pyproject.toml poetry.lock ./
RUN poetry install --no-root

FROM python:3.11-slim-bookworm
ENV POETRY_VIRTUALENVS_IN_PROJECT=true
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
COPY . .
CMD ["/app/.venv/bin/python", "-m", "app"]
