FROM debian:12
RUN apt-install git \
    jq
