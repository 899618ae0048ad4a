FROM python:3.12-bookworm AS builder
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev
RUN apt-get install -y --no-install-recommends libgeos-dev
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

FROM python:3.12-slim-bookworm
WORKDIR /app
# gcc and libpq-dev come with the image, GEOS (for shapely's source build) does not
RUN apt-get update && apt-get install -y --no-install-recommends libpq5
RUN apt-get install -y --no-install-recommends libgeos-c1v5
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
CMD ["python", "-m", "app"]
