FROM debian:bookworm-slim

RUN apt-get update && apt-get install --no-install-recommends -y curl ca-certificates && rm -rf /var/lib/apt/lists/*

# the release list the report is made from, fetched at build time over https
RUN curl -fsSL https://pypi.org/simple/pip/ -o /srv/pip-index.html

COPY report.sh /usr/local/bin/report.sh
CMD ["sh", "/usr/local/bin/report.sh"]
