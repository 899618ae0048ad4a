# dockfix: ignore-file=multistage
FROM python:3.11-slim

RUN apt-get update && \
    apt-get install --no-install-recommends -y build-essential && \
    rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
# dockfix: ignore=cache-mounts
RUN pip install -r requirements.txt
COPY . .

CMD ["python", "main.py"]
