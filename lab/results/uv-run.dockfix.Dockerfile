FROM python:3.11-slim
COPY --from=ghcr.io/astral-sh/uv:latest /uv /uvx /bin/

# Sync the project into a new environment, asserting the lockfile is up to date
WORKDIR /app
COPY pyproject.toml uv.lock /app/
ENV UV_LINK_MODE=copy
RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-install-project
# Copy the project into the image
ADD . /app
RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked

CMD ["uv", "run", "python", "-m", "report"]
