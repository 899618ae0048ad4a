FROM python:3.11 AS builder
WORKDIR /app
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN pip install markdown==3.7
RUN echo "markdown $(python -c 'import markdown; print(markdown.__version__)')" > /app/version.txt
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM python:3.11-slim
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN echo "markdown $(python -c 'import markdown; print(markdown.__version__)')" > /app/version.txt
COPY . .
CMD ["gunicorn", "app:app"]
