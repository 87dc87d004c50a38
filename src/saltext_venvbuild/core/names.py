"""The shapes of the names venvbuild uses in files, paths, URLs and commands.

One place for them, so that what the builder writes and what a target accepts
can never drift apart.
"""

import re

SPEC_ID_LENGTH = 16

# A venv id or release name: it names files and URLs.
VENV_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SPEC_ID = re.compile(rf"^[0-9a-f]{{{SPEC_ID_LENGTH}}}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# A plain name: pip's #egg= fragment, a facts section or option, facts_dest.
SIMPLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# The file name of a wheel (parse_wheel_filename decides the rest): no separators.
WHEEL_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!-]*\.whl$")
MANIFEST_FILE = re.compile(
    rf"^(?P<venv>[A-Za-z0-9][A-Za-z0-9._-]{{0,99}})-(?P<spec>[0-9a-f]{{{SPEC_ID_LENGTH}}})\.txt$")
# distro-release-arch-interpreter, each lower-case without separators.
PLATFORM_KEY = re.compile(r"^[a-z0-9._]+-[a-z0-9._]+-[a-z0-9._]+-[a-z0-9._]+$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DISTRO_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_:~-]*$")
# One minion id: no glob, list or space characters.
MINION_ID = re.compile(r"^[^\s*?\[\],]+$")
# The directories of a venv's .<name>.versions/: venvbuild's own, and kept ones.
VERSION_DIR = re.compile(rf"^[0-9a-f]{{{SPEC_ID_LENGTH}}}-\d{{8}}T\d{{6}}Z(?:-\d+)?$")
ADOPTED_DIR = re.compile(r"^preexisting-\d{8}T\d{6}Z(?:-\d+)?$")
