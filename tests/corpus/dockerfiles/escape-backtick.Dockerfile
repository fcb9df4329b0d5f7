# escape=`

FROM mcr.microsoft.com/windows/servercore:ltsc2022
RUN New-Item -ItemType Directory C:\app `
    ; Write-Host done
COPY app\ C:\app\
RUN apt-get install -y `
      curl `
      git
WORKDIR C:\app
