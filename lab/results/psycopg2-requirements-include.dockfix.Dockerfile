FROM python:3.11

WORKDIR /app

COPY requirements/production.txt requirements/base.txt requirements/
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements/production.txt
# the full image has gcc and libpq-dev: psycopg2 builds from source
COPY requirements/ requirements/

COPY app.py .
CMD ["python", "app.py"]
