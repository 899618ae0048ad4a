FROM python:3.12-slim AS builder
RUN useradd --create-home app
USER app
WORKDIR /home/app
RUN python -m venv venv
COPY --chown=app:app requirements.txt .
RUN venv/bin/pip install -r requirements.txt

FROM python:3.12-slim
RUN useradd --create-home app
USER app
WORKDIR /home/app
COPY --from=builder --chown=app /home/app/venv /home/app/venv
COPY --chown=app:app . .
CMD ["venv/bin/python", "main.py"]
