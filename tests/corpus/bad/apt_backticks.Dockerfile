# expect: 4: the package list comes from a command substitution (`cat /tmp/packages.txt`)
FROM debian:13.4
COPY packages.txt /tmp/
RUN apt-get update && apt-get install -y `cat /tmp/packages.txt`
