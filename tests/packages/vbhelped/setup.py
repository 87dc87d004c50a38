# Needs its build helper at build time, as pbr- or Cython-based packages do. With
# --no-build-isolation the helper must be in the builder environment
# (build_requirements_extra).
import vbhelper
from setuptools import setup

with open("vbhelped/_generated.py", "w") as handle:
    handle.write(f"TEXT = {vbhelper.generated()!r}\n")
setup(name="vbhelped", version=open("VBVERSION").read().strip(), packages=["vbhelped"])
