ARG VENV=/opt/venv
FROM python:3.12-slim AS builder
ARG VENV
WORKDIR /app
RUN python -m venv $VENV
ENV PATH="$VENV/bin:$PATH"
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM python:3.12-slim
ARG VENV
WORKDIR /app
ENV PATH="$VENV/bin:$PATH"
COPY --from=builder /opt/venv /opt/venv
COPY . .
CMD ["python", "app.py"]
