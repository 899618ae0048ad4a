FROM python:3.11 AS builder
WORKDIR /app
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN pip install nltk==3.9.1
RUN python -m nltk.downloader -d /usr/local/share/nltk_data punkt
ENV PATH=/app/bin:$PATH
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM python:3.11-slim
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN python -m nltk.downloader -d /usr/local/share/nltk_data punkt
ENV PATH=/app/bin:$PATH
COPY . .
CMD ["gunicorn", "app:app"]
