FROM python:3.11 AS builder
WORKDIR /app
ENV VIRTUAL_ENV=/opt/app
RUN python -m venv $VIRTUAL_ENV
ENV PATH=$VIRTUAL_ENV/bin:$PATH
RUN pip install gunicorn==22.0.0
RUN echo /app/src > $VIRTUAL_ENV/lib/python3.11/site-packages/app.pth
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM python:3.11-slim
WORKDIR /app
ENV VIRTUAL_ENV=/opt/app
ENV PATH=$VIRTUAL_ENV/bin:$PATH
COPY --from=builder /opt/app /opt/app
COPY . .
CMD ["gunicorn", "app:app"]
