FROM python:3.12 AS builder
WORKDIR "/app"
COPY pyproject.toml uv.lock ./
RUN pip install uv && uv sync --frozen

FROM python:3.12-slim
WORKDIR "/app"
COPY --from=builder /app/.venv /app/.venv
COPY . .
CMD ["/app/.venv/bin/python", "app.py"]
