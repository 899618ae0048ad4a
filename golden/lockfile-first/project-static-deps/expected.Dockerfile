FROM python:3.12-slim

WORKDIR /app

RUN pip install --no-cache-dir 'click>=8.1' 'httpx[http2]>=0.27' "tomli>=2; python_version < '3.11'"
COPY . .

RUN pip install --no-cache-dir .

ENTRYPOINT ["tool"]
