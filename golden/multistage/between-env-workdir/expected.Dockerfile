FROM python:3.11 AS builder
WORKDIR /app
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN pip install gunicorn==22.0.0
ENV APP_HOME=/srv/app PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR $APP_HOME
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM python:3.11-slim
WORKDIR /app
ENV APP_HOME=/srv/app PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR $APP_HOME
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
CMD ["gunicorn", "app:app"]
