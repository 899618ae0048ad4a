FROM python:3.12-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY main.py ./
COPY app ./app
RUN pip install --no-cache-dir 'click>=8.1' 'httpx[http2]>=0.27' "tomli>=2; python_version < '3.11'"
COPY config ./config
RUN pip install --no-cache-dir .
CMD ["python", "main.py"]
