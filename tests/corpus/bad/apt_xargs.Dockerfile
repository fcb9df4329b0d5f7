# expect: 4: xargs runs apt with packages read from its input
FROM debian:13.4
COPY packages.txt /tmp/
RUN apt-get update && xargs -a /tmp/packages.txt apt-get install -y
