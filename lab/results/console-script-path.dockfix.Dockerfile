FROM python:3.11

WORKDIR /app

COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt

COPY app.py .

EXPOSE 8000
CMD ["/usr/local/bin/waitress-serve", "--listen=0.0.0.0:8000", "app:application"]
