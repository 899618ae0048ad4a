FROM python:3.12 AS builder
RUN pip install pipx
WORKDIR /src
COPY . .
RUN pipx install .

FROM python:3.12-slim
WORKDIR /src
COPY . .
COPY --from=builder /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
CMD ["greeter"]
