FROM python:3.12 AS builder
ENV PIPX_HOME=/opt/pipx PIPX_BIN_DIR=/opt/bin
RUN pip install pipx && pipx install pre-commit==4.0.1

FROM python:3.12-slim
ENV PIPX_HOME=/opt/pipx PIPX_BIN_DIR=/opt/bin
COPY --from=builder /opt/pipx /opt/pipx
COPY --from=builder /opt/bin /opt/bin
ENV PATH=/opt/bin:$PATH
CMD ["pre-commit", "--version"]
