# expect: 5: the package list comes from a variable (${PKGS})
FROM debian:13.4
ENV PKGS="curl jq"
RUN apt-get update && apt-get install -y \
      ${PKGS}
