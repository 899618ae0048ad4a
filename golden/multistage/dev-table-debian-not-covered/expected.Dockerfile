FROM debian:bookworm-slim AS builder
RUN apt-get update && apt-get install -y python3 python3-venv python3-pip gcc python3-dev libpq-dev uuid-dev
WORKDIR /app
RUN python3 -m venv /venv
COPY requirements.txt .
RUN /venv/bin/pip install -r requirements.txt

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y python3 libpq5 uuid-dev
WORKDIR /app
COPY --from=builder /venv /venv
COPY . .
CMD ["/venv/bin/python", "app.py"]
