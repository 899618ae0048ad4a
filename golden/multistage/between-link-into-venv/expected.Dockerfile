FROM python:3.11 AS builder
WORKDIR /app
ENV VIRTUAL_ENV=/opt/app
RUN python -m venv $VIRTUAL_ENV
ENV PATH="$VIRTUAL_ENV/bin:$PATH"
RUN pip install waitress==3.0.2
# the launcher goes on the PATH beside the venv's console scripts
RUN ln -s /app/bin/serve $VIRTUAL_ENV/bin/serve
COPY requirements.txt .
RUN pip install -r requirements.txt

FROM python:3.11-slim
WORKDIR /app
ENV VIRTUAL_ENV=/opt/app
ENV PATH="$VIRTUAL_ENV/bin:$PATH"
COPY --from=builder /opt/app /opt/app
COPY . .
CMD ["serve"]
