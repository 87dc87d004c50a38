from setuptools import setup

setup(name="vbdep", version=open("VBVERSION").read().strip(), packages=["vbdep"])
