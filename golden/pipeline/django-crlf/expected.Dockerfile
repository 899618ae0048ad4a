FROM python:3.12 AS builder
ENV PYTHONUNBUFFERED 1
RUN mkdir /code
WORKDIR /code
COPY --from=ghcr.io/astral-sh/uv:0.13.7 /uv /uvx /bin/
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1
RUN uv venv --python /usr/local/bin/python /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY requirements.txt /code/
RUN --mount=type=cache,target=/root/.cache/uv uv pip install -r requirements.txt

FROM python:3.12-slim

ENV PYTHONUNBUFFERED 1

RUN mkdir /code
WORKDIR /code
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . /code/

RUN python manage.py collectstatic --noinput
CMD python manage.py runserver 0.0.0.0:8000
