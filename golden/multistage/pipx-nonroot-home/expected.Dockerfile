FROM python:3.12 AS builder
RUN pip install pipx
RUN useradd --create-home app
USER app
ENV HOME=/home/app PATH=/home/app/.local/bin:$PATH
RUN pipx install httpie==3.2.3

FROM python:3.12-slim
RUN useradd --create-home app
USER app
ENV HOME=/home/app PATH=/home/app/.local/bin:$PATH
COPY --from=builder --chown=app /home/app/.local /home/app/.local
CMD ["http", "--version"]
