# expect: 4: apt inside a shell function installs what its callers pass
FROM debian:13.4
RUN install_packages() { \
      apt-get install -y --no-install-recommends "$@"; \
    } && apt-get update && install_packages curl jq
