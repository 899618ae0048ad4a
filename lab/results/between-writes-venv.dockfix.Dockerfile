FROM python:3.11 AS builder
WORKDIR /app
ENV VIRTUAL_ENV=/opt/app
COPY --from=ghcr.io/astral-sh/uv:0.13.7 /uv /uvx /bin/
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1
RUN uv venv --python /usr/local/bin/python /opt/app
ENV PATH="$VIRTUAL_ENV/bin:$PATH"
RUN --mount=type=cache,target=/root/.cache/uv uv pip install waitress==3.0.2
# the launcher goes on the PATH beside the venv's console scripts
RUN ln -s /app/bin/serve $VIRTUAL_ENV/bin/serve
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/uv uv pip install -r requirements.txt

FROM python:3.11-slim

WORKDIR /app

ENV VIRTUAL_ENV=/opt/app
ENV PATH="$VIRTUAL_ENV/bin:$PATH"

COPY --from=builder /opt/app /opt/app

COPY . .

EXPOSE 8000
CMD ["serve"]
