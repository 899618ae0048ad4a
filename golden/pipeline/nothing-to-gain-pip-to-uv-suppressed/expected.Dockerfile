FROM python:3.11-slim

WORKDIR /app

COPY . .

# dockfix: ignore=DF701
RUN --mount=type=cache,target=/root/.cache/pip pip install .

ENTRYPOINT ["wordcount"]
CMD ["--help"]
