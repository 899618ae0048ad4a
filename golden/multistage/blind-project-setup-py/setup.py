from setuptools import setup
setup(name="myapp", install_requires=open("deps.txt").read().split())
