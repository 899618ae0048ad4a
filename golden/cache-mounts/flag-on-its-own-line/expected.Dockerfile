FROM python:3.12-slim
RUN --mount=type=cache,target=/root/.cache/pip pip install \
    # no cache in the image
    -r requirements.txt \
    && pip check
RUN --mount=type=cache,target=/root/.cache/pip apt-get update && \
    pip install
