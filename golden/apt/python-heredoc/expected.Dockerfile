FROM python:3.12-slim
RUN python3 <<EOF
import sys
if sys.version_info < (3, 12):
    print("old Python (upgrade)"
          ); sys.exit(1)
EOF
RUN apt-get update && apt-get install -y gcc && python3 - <<'EOF' && rm -rf /var/lib/apt/lists/*
print("built (ok)")
EOF
RUN <<EOF
#!/usr/bin/env python3
print("apt-get install -y curl (not shell)")
EOF
