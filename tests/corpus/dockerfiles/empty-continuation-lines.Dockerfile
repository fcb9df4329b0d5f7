\
FROM debian:12
   \
  RUN echo indented continuation start
RUN echo a \
\
  b
