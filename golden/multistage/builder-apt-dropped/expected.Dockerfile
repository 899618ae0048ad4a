# pull official base image
FROM python:3.11 AS builder
WORKDIR /usr/src/app
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY ./requirements.txt .
RUN pip install -r requirements.txt

FROM python:3.11-slim

WORKDIR /usr/src/app

# install psycopg2 dependencies
RUN apt-get update \
    && apt-get install -y libpq5

COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"

COPY . .
CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]
