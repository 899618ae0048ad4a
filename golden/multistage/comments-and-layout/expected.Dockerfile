# escape=\
# Service image.
FROM python:3.12-bookworm AS builder
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
# Install the dependencies.
COPY requirements.txt ./
RUN pip install -r requirements.txt

FROM python:3.12-slim-bookworm  AS app

# Build tools for the C extensions.
RUN apt-get update \
    # compilers
    && apt-get install -y --no-install-recommends libffi8 \
    && rm -rf /var/lib/apt/lists/*

COPY --from=builder /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"

COPY . ./
CMD python app.py