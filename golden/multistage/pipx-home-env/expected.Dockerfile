FROM python:3.12 AS builder
ENV PIPX_HOME=/opt/pipx \
    PIPX_BIN_DIR=/opt/pipx/bin
RUN pip install pipx
RUN pipx install poetry==1.8.5

FROM python:3.12-slim
ENV PIPX_HOME=/opt/pipx \
    PIPX_BIN_DIR=/opt/pipx/bin
COPY --from=builder /opt/pipx /opt/pipx
ENV PATH=/opt/pipx/bin:$PATH
CMD ["poetry", "--version"]
