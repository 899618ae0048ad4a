FROM python:3.12-slim
RUN useradd --create-home --uid 1000 app
USER app
WORKDIR /home/app
COPY requirements.txt .
RUN --mount=type=cache,target=/home/app/.cache/pip,uid=1000 pip install --user -r requirements.txt
