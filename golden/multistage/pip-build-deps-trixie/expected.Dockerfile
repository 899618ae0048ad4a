FROM python:3.13-slim-trixie AS builder
RUN apt-get update && apt-get install -y --no-install-recommends gcc libssl-dev libxml2-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /srv
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

FROM python:3.13-slim-trixie
RUN apt-get update && apt-get install -y --no-install-recommends libssl3t64 libxml2 && rm -rf /var/lib/apt/lists/*
WORKDIR /srv
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
USER nobody
CMD ["python", "main.py"]
