FROM python:3.12-slim AS builder
RUN pip install --upgrade pip
RUN useradd -m web
USER web
WORKDIR /home/web
RUN python -m venv .venv
COPY requirements.txt .
RUN .venv/bin/pip install -r requirements.txt

FROM python:3.12-slim
RUN useradd -m web
USER web
WORKDIR /home/web
COPY --from=builder --chown=web /home/web/.venv /home/web/.venv
COPY . .
CMD [".venv/bin/gunicorn", "app:app"]
