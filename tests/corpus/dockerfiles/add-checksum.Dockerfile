FROM alpine:3.20
ARG TINI_VERSION=0.19.0
ADD --checksum=sha256:93dcc18adc78c65a028a84799ecf8ad40c936fdfc5f2a57b1acda5a8117fa82c https://github.com/krallin/tini/releases/download/v${TINI_VERSION}/tini /tini
ADD --chmod=755 https://example.com/plain.sh /usr/local/bin/
ADD https://github.com/moby/buildkit.git#v0.14.0 /src
ADD local.tar.gz /opt/
