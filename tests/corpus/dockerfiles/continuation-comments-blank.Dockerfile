FROM debian:12
RUN apt-get update \
# a comment inside the continuation
    && apt-get install -y \

        curl \
   # indented comment \
        jq \
    	
        wget
ENV X=1 \
    Y=2
