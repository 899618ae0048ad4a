FROM python:3.12-slim
WORKDIR /usr/src/app
RUN --mount=type=cache,target=/root/.cache/pip pip install click
COPY . .
RUN --mount=type=cache,target=/root/.cache/pip pip install .
USER nobody
ENTRYPOINT ["mytool"]
