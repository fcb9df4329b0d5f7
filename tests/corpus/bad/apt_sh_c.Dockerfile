# expect: 3: apt run through `bash` from a string: pinlock cannot rewrite inside it
FROM debian:13.4
RUN bash -c 'apt-get update && apt-get install -y curl'
