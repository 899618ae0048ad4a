FROM python:3.12-bookworm AS builder
WORKDIR /src
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
RUN pip install --no-cache-dir .

FROM python:3.12-slim-bookworm
WORKDIR /src
COPY . .
COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
ENV PORT=8080
CMD ["myservice", "--port", "8080"]
