# foo=bar
# escape=`
FROM busybox:1.36 `
RUN echo not continued
