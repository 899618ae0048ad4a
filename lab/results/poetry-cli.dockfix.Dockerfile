FROM python:3.11-slim

ENV POETRY_VERSION=1.8.5

RUN --mount=type=cache,target=/root/.cache/pip pip install "poetry==$POETRY_VERSION"

WORKDIR /code
COPY poetry.lock pyproject.toml /code/

# Project initialization:
RUN --mount=type=cache,target=/root/.cache/pypoetry poetry config virtualenvs.create false \
  && poetry install --no-interaction --no-ansi

# Creating folders, and files for a project:
COPY . /code

CMD ["python", "-m", "quotes"]
