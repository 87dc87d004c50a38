from setuptools import setup

setup(
    name="vbapp",
    version=open("VBVERSION").read().strip(),
    packages=["vbapp"],
    install_requires=["vbdep>=1.0"],
    entry_points={"console_scripts": ["vbapp = vbapp:main"]},
)
