FROM python:3.11-slim-bookworm
ARG VERSION

RUN --mount=type=cache,target=/root/.cache/pip pip install mlflow[extras,azure,db,gateway,genai,auth]==$VERSION
