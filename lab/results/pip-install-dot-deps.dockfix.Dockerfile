FROM python:3.11-slim

WORKDIR /app

RUN --mount=type=cache,target=/root/.cache/pip pip install markdown==3.7 pygments==2.18.0
COPY . .

RUN --mount=type=cache,target=/root/.cache/pip pip install .

ENTRYPOINT ["mdrender"]
CMD ["# hello"]
