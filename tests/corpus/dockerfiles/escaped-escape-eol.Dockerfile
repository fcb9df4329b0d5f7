FROM mcr.microsoft.com/windows/servercore:ltsc2022 AS build
FROM mcr.microsoft.com/windows/servercore:ltsc2022
COPY --from=build C:\\Windows\\System32\\ C:\\Windows\\System32\\
ENV MONGO_VERSION 7.0.0
ENV C trailing\\backslash\\
ENV D three\\\
ENV E after
