FROM python:3.12-slim
RUN pip install poetry==1.8.3
WORKDIR /code
COPY pyproject.toml poetry.lock /code/
RUN poetry config virtualenvs.create false \
    && poetry install --only main --no-interaction --no-root
COPY . /code
RUN poetry config virtualenvs.create false \
    && poetry install --only main --no-interaction
CMD ["python", "-m", "api"]
