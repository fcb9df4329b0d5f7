# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
COPY C:\Windows\System32\ ``
ENV MONGO_VERSION 7.0.0
RUN echo a `
    ``
ENV B x
