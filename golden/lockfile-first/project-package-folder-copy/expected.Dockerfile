FROM python:3.11-slim

WORKDIR /app

COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir 'click>=8.1' 'httpx[http2]>=0.27' "tomli>=2; python_version < '3.11'"
COPY refiner ./refiner

RUN pip install --no-cache-dir .

ENV PORT=8000
EXPOSE 8000

CMD ["sh", "-c", "exec uvicorn refiner.server:app --host 0.0.0.0 --port ${PORT}"]
