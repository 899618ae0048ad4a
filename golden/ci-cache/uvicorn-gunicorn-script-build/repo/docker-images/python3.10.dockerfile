# A stand-in for the repository's Dockerfile at that commit: ci-cache reads only where it is.
FROM python:3.12-slim
