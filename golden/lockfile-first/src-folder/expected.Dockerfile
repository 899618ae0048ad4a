FROM python:3.12-slim
WORKDIR /app
COPY src/requirements.txt /app/
RUN pip install -r requirements.txt
COPY src/ /app/
CMD ["python", "main.py"]
