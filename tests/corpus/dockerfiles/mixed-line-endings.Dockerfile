FROM alpine:3.20
RUN echo one \
    two \
    three
RUN <<EOF
echo crlf body
echo lf body
EOF
ENV A=1
RUN echo carriage \
    returns
LABEL x="ab"
