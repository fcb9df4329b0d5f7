# expect: 4: apt run through `eval` from a string: pinlock cannot rewrite inside it
FROM debian:13.4
ARG PKGS="curl jq"
RUN apt-get update && eval "apt-get install -y $PKGS"
