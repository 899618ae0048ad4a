FROM python:3.11 AS builder
WORKDIR /app
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN pip install pyyaml==6.0.2
COPY scripts/render-config.sh /usr/local/sbin/render-config.sh
RUN /usr/local/sbin/render-config.sh
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM python:3.11-slim
WORKDIR /app
COPY scripts/render-config.sh /usr/local/sbin/render-config.sh
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN /usr/local/sbin/render-config.sh
COPY . .
CMD ["gunicorn", "app:app"]
