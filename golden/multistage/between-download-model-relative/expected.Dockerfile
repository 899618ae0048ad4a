FROM python:3.11 AS builder
WORKDIR /app
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN pip install --no-cache-dir gunicorn==22.0.0
RUN mkdir -p models/cache && \
    wget -q -O models/model.onnx https://example.org/model.onnx && \
    chmod 644 models/model.onnx
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

FROM python:3.11-slim
WORKDIR /app

# the model the app loads at start
COPY --from=builder /app/models/cache /app/models/cache
COPY --from=builder /app/models/model.onnx /app/models/model.onnx

COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
CMD ["gunicorn", "app:app"]
