FROM python:3.12-bookworm AS builder
RUN python -m pip install pipx
RUN python -m pipx install --include-deps cowsay==6.1 && python -m pipx list

FROM python:3.12-slim-bookworm
COPY --from=builder /root/.local /root/.local
CMD ["/root/.local/bin/cowsay", "-t", "hello"]
