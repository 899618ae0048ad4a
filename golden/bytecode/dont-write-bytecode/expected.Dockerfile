FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
ENV UV_COMPILE_BYTECODE=1
RUN uv pip install --system -r requirements.txt
