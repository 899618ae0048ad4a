FROM python:3.11 AS builder
RUN --mount=type=cache,target=/root/.cache/pip pip install pipx && pipx install httpie==3.2.3

FROM python:3.11-slim
COPY --from=builder /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
WORKDIR /app
COPY check.sh .
CMD ["sh", "check.sh"]
