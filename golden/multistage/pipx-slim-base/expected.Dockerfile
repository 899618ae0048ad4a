FROM python:3.12-slim AS builder
RUN pip install --no-cache-dir pipx==1.7.1
RUN pipx install black==24.10.0 ruff==0.8.4

FROM python:3.12-slim
COPY --from=builder /root/.local /root/.local
ENV PATH="/root/.local/bin:${PATH}"
WORKDIR /src
ENTRYPOINT ["black"]
