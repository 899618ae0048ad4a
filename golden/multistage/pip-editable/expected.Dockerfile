FROM python:3.11 AS builder
ENV PYTHONUNBUFFERED=1
WORKDIR /code
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY requirements.txt .
RUN python -m pip install -r requirements.txt
COPY . .
RUN python -m pip install -e .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1
WORKDIR /code
COPY . .
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
CMD ["python", "-m", "myapp"]
