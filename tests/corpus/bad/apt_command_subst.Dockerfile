# expect: 6: the package list comes from a command substitution ($(cat /tmp/packages.txt))
FROM debian:13.4
COPY packages.txt /tmp/
RUN apt-get update && \
    apt-get install -y --no-install-recommends \
      $(cat /tmp/packages.txt)
