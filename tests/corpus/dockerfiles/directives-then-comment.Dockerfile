# syntax=docker/dockerfile:1
# check=skip=JSONArgsRecommended
# a plain comment ends the directive block
# escape=`
FROM ubuntu:24.04
RUN echo still \
    backslash
