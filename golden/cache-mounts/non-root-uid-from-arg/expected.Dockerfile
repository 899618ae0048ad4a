FROM python:3.12-slim
ARG USER_UID=1000
RUN useradd --create-home --uid "${USER_UID}" app
USER app
WORKDIR /home/app
COPY --chown=app requirements.txt .
RUN --mount=type=cache,target=/home/app/.cache/pip,uid=${USER_UID} pip install --user -r requirements.txt
COPY --chown=app . .
CMD ["python", "app.py"]
