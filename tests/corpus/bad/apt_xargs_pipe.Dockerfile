# expect: 5: xargs runs apt with packages read from its input
FROM debian:13.4
COPY packages.txt /tmp/
RUN apt-get update \
    && grep -v '^#' /tmp/packages.txt | xargs apt-get install -y
