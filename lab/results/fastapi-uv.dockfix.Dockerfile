FROM python:3.11

WORKDIR /app

# Install uv
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/

COPY . .

RUN uv sync

ENV PATH="/app/.venv/bin:$PATH"

EXPOSE 8000

CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
