ARG PYTHON_VER
FROM python:${PYTHON_VER}-slim
RUN --mount=type=cache,target=/root/.cache/pip pip install flask==3.0.3
