FROM python:3.12-alpine AS builder
RUN apk add --no-cache libpq
WORKDIR /app
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY requirements.txt .
RUN apk add --no-cache --virtual .build-deps gcc musl-dev postgresql-dev \
    && pip install -r requirements.txt \
    && apk del .build-deps

FROM python:3.12-alpine
RUN apk add --no-cache libpq
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
CMD ["python", "app.py"]
