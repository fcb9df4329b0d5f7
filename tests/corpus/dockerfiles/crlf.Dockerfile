FROM debian:bookworm-slim

# comment with CRLF
RUN apt-get update && \
    apt-get install -y --no-install-recommends \
        ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
CMD ["bash"]
