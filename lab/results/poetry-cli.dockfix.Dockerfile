FROM python:3.11-slim AS builder
ENV POETRY_VERSION=1.8.5
RUN --mount=type=cache,target=/root/.cache/pip pip install "poetry==$POETRY_VERSION"
WORKDIR /code
COPY --from=ghcr.io/astral-sh/uv:0.13.7 /uv /uvx /bin/
RUN uv venv --python /usr/local/bin/python /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY poetry.lock pyproject.toml /code/
# Project initialization:
RUN --mount=type=cache,target=/root/.cache/pypoetry poetry config virtualenvs.create false \
  && poetry install --no-interaction --no-ansi

FROM python:3.11-slim

ENV POETRY_VERSION=1.8.5

WORKDIR /code

COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"

# Creating folders, and files for a project:
COPY . /code

CMD ["python", "-m", "quotes"]
