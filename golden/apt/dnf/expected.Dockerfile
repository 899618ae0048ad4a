FROM registry.access.redhat.com/ubi9/python-312
RUN dnf install -y gcc && dnf clean all
