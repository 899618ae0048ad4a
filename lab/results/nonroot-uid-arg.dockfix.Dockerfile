FROM python:3.11-slim AS builder
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/
ARG USER_UID=1000
RUN useradd --create-home --uid "${USER_UID}" app
USER app
WORKDIR /home/app
RUN uv venv /home/app/venv
ENV VIRTUAL_ENV=/home/app/venv PATH="/home/app/venv/bin:$PATH"
COPY --chown=app requirements.txt .
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1
RUN --mount=type=cache,target=/home/app/.cache/uv,uid=${USER_UID} uv pip install -r requirements.txt

FROM python:3.11-slim
ARG USER_UID=1000
RUN useradd --create-home --uid "${USER_UID}" app
USER app
WORKDIR /home/app
ENV VIRTUAL_ENV=/home/app/venv PATH="/home/app/venv/bin:$PATH"
COPY --chown=app requirements.txt .
COPY --from=builder --chown=app /home/app/venv /home/app/venv
COPY --chown=app app.py .
CMD ["python", "app.py"]
