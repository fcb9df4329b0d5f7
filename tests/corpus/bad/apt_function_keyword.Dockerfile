# expect: 5: apt inside a shell function installs what its callers pass
FROM debian:13.4
SHELL ["/bin/bash", "-c"]
RUN function pkgs { \
      apt-get install -y curl; \
    }; apt-get update && pkgs
