FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv
WORKDIR /app
COPY . .
RUN uv sync --locked
CMD ["uv", "run", "flask", "run"]
