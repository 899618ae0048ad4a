from python:3.10-slim
run apt-get update \
  && apt-get install -y git \
  && rm -rf /var/lib/apt/lists/*
workdir /opt/bot
copy requirements.txt ./
run --mount=type=cache,target=/root/.cache/pip pip3 install -r requirements.txt
copy . ./
cmd ["python3", "bot.py"]