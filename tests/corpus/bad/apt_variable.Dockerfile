# expect: 4: the package list comes from a variable ($PKGS)
FROM debian:13.4
ARG PKGS="curl jq"
RUN apt-get update && apt-get install -y $PKGS
