FROM python:3.11 AS builder
WORKDIR /app
COPY --from=ghcr.io/astral-sh/uv:0.13.7 /uv /uvx /bin/
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1
RUN uv venv --python /usr/local/bin/python /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
# The front page is rendered once, at build time, with the markdown package.
RUN --mount=type=cache,target=/root/.cache/uv uv pip install markdown==3.7
COPY docs/ docs/
RUN mkdir -p static && echo "$(python -m markdown docs/index.md)" > static/index.html
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/uv uv pip install -r requirements.txt

FROM python:3.11-slim

WORKDIR /app

COPY docs/ docs/
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN mkdir -p static && echo "$(python -m markdown docs/index.md)" > static/index.html

COPY requirements.txt .

COPY app.py .

EXPOSE 8000
CMD ["waitress-serve", "--listen=0.0.0.0:8000", "app:application"]
