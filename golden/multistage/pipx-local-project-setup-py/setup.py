from setuptools import setup
setup(name="mytool", install_requires=open("requirements.txt").read().split())
