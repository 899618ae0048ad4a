FROM python:3.12-alpine AS builder
RUN apk add --no-cache libpq
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"
COPY requirements.txt .
RUN apk add --no-cache --virtual .build-deps gcc musl-dev postgresql-dev \
    && pip install -r requirements.txt \
    && apk del .build-deps

FROM python:3.12-alpine
RUN apk add --no-cache libpq
WORKDIR /app
ENV PATH="/opt/venv/bin:$PATH"
COPY --from=builder /opt/venv /opt/venv
COPY . .
CMD ["python", "app.py"]
