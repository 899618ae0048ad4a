FROM python:3.12 AS builder
RUN pip install poetry==2.1.3 && \
    poetry config virtualenvs.create false
WORKDIR /code
COPY --from=ghcr.io/astral-sh/uv:0.13.7 /uv /uvx /bin/
RUN uv venv --python /usr/local/bin/python /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY poetry.lock pyproject.toml /code/
RUN poetry install --no-interaction --no-ansi

FROM python:3.12-slim
WORKDIR /code
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . /code
CMD ["python", "-m", "quotes"]
