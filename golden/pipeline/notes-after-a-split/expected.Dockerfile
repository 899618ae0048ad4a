FROM python:3.12-alpine AS builder
ENV FLASK_APP app.py
RUN adduser -D app
USER app
WORKDIR /home/app
COPY requirements.txt requirements.txt
RUN python -m venv venv
RUN venv/bin/pip install -r requirements.txt

FROM python:3.12-alpine

ENV FLASK_APP app.py

RUN adduser -D app
USER app

WORKDIR /home/app

COPY requirements.txt requirements.txt
COPY --from=builder --chown=app /home/app/venv /home/app/venv

COPY app.py ./

EXPOSE 5000
CMD ["venv/bin/flask", "run", "--host", "0.0.0.0"]
