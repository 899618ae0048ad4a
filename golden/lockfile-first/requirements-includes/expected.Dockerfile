FROM python:3.12-slim
WORKDIR /srv
COPY requirements/prod.txt requirements/base.txt requirements/
COPY constraints.txt ./
RUN pip install -r requirements/prod.txt -c constraints.txt
COPY . .
CMD ["gunicorn", "app:app"]
