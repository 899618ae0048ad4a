FROM python:3.11 AS builder
RUN useradd --create-home app
WORKDIR /home/app
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN pip install nltk==3.9.1
USER app
RUN python -m nltk.downloader -d /home/app/nltk_data punkt
USER root
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM python:3.11-slim
RUN useradd --create-home app
WORKDIR /home/app
USER app
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN python -m nltk.downloader -d /home/app/nltk_data punkt
USER root
COPY requirements.txt .
USER app
COPY --chown=app . .
CMD ["gunicorn", "app:app"]
