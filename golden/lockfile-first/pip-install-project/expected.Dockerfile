FROM python:3.12-slim
WORKDIR /app
RUN pip install click
COPY . .
RUN pip install .
CMD ["tool"]
