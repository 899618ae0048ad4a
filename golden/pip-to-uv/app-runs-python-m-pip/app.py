import subprocess
import sys


def add_plugin(name):
    subprocess.check_call([sys.executable, "-m", "pip", "install", name])
