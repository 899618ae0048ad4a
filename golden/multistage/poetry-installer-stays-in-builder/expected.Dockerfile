FROM python:3.12-bookworm AS builder
ENV POETRY_VIRTUALENVS_CREATE=false
WORKDIR /app
RUN pip install --upgrade pip && pip install poetry==1.8.3
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY pyproject.toml poetry.lock ./
RUN poetry install --no-root --only main

FROM python:3.12-slim-bookworm
ENV POETRY_VIRTUALENVS_CREATE=false
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
CMD ["python", "-m", "app"]
