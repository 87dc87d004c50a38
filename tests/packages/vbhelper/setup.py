from setuptools import setup

setup(name="vbhelper", version=open("VBVERSION").read().strip(), packages=["vbhelper"])
