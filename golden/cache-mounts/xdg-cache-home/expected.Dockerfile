FROM python:3.12-slim
ENV XDG_CACHE_HOME=/var/cache
RUN --mount=type=cache,target=/var/cache/pip python -m pip install -r requirements.txt
