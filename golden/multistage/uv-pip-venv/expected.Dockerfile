FROM python:3.12 AS builder
RUN pip install uv
ENV VIRTUAL_ENV=/opt/app-env
RUN uv venv $VIRTUAL_ENV
ENV PATH="/opt/app-env/bin:$PATH"
COPY requirements.txt .
RUN uv pip install -r requirements.txt

FROM python:3.12-slim
ENV VIRTUAL_ENV=/opt/app-env
ENV PATH="/opt/app-env/bin:$PATH"
COPY requirements.txt .
COPY --from=builder /opt/app-env /opt/app-env
CMD ["python", "-c", "import yaml"]
