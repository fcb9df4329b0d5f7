FROM debian:12 AS one
RUN apt-get update && apt-get -y install --no-install-recommends curl ca-certificates
RUN apt-get -o Dpkg::Options::=--force-confnew install -y tzdata \
        locales=2.36-9+deb12u9 libc6:arm64 && apt-get clean
RUN DEBIAN_FRONTEND=noninteractive apt install -yq --no-install-recommends vim nano
RUN sudo apt-get install -y -qq 'htop' "less" 2>&1 > /dev/null
FROM debian:12 AS two
RUN apt-get update; apt-get install -y \
      git \
      openssh-client; \
    apt-get purge -y curl
RUN apt-get install -y $EXTRA_PACKAGES
RUN apt-get --yes install -t bookworm-backports golang-go
