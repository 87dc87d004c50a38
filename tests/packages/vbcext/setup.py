from setuptools import Extension
from setuptools import setup

setup(
    name="vbcext",
    version=open("VBVERSION").read().strip(),
    packages=["vbcext"],
    ext_modules=[Extension("vbcext._fast", ["vbcext/_fast.c"])],
)
