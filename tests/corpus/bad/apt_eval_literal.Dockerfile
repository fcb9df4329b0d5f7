# expect: 3: apt run through `eval` from a string: pinlock cannot rewrite inside it
FROM debian:13.4
RUN eval 'apt-get update && apt-get install -y curl'
