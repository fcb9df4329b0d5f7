# expect: 4: the package list comes from a variable (curl=${CURL_VERSION})
FROM debian:13.4
ARG CURL_VERSION=8.14.1-2
RUN apt-get update && apt-get install -y curl=${CURL_VERSION}
