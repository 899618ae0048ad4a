# escape=`
FROM python:3.12-windowsservercore
RUN apt-get update && `
    apt-get install -y curl && `
    rm -rf /var/lib/apt/lists/*
