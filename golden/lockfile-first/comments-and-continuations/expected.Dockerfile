FROM python:3.12-slim
WORKDIR /app

COPY --chown=app:app requirements.txt ./
# system packages, then Python ones
RUN apt-get update \
    # build tools for psycopg
    && apt-get install -y gcc libpq-dev \
    && pip install -r requirements.txt  # pinned

# the application code
COPY --chown=app:app . .

USER app
CMD ["python", "app.py"]
