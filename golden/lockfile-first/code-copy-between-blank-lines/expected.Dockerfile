FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /uvx /bin/

# Sync the project into a new environment, asserting the lockfile is up to date
WORKDIR /app
COPY pyproject.toml uv.lock .python-version /app/
RUN uv sync --locked --no-install-project
# Copy the project into the image
ADD . /app
RUN uv sync --locked

CMD ["uv", "run", "python", "-m", "app"]
