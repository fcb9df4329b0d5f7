FROM debian:12
LABEL description="café — 日本"
# — a comment with an em dash
 RUN echo nbsp-indented
RUN apt-get install -y curl \
    fonts-noto-cjk  # é
