FROM python:3.12 AS builder
ENV PYTHONUNBUFFERED=1
WORKDIR /srv
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
RUN pip install --no-cache-dir django==5.1
RUN python manage.py collectstatic --noinput
RUN pip install --no-cache-dir -r requirements.txt

FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1
WORKDIR /srv
COPY . .
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "site.wsgi"]
