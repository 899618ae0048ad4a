FROM python:3.12 AS builder
RUN pip install pipx
RUN useradd --create-home app
USER app
RUN pipx install httpie==3.2.3

FROM python:3.12-slim
RUN useradd --create-home app
USER app
COPY --from=builder --chown=app /home/app/.local /home/app/.local
ENV PATH=/home/app/.local/bin:$PATH
CMD ["http", "--version"]
