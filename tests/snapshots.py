"""What the tests compare before and after an attack: trees of files, and files holding a secret."""

import os
import stat


def tree(path):
    """Every path under ``path`` with its kind, size and mode (links not followed)."""
    out = {}
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(root, name)
            st = os.lstat(full)
            out[full] = (stat.S_IFMT(st.st_mode), st.st_size, stat.S_IMODE(st.st_mode))
    return out


def files_holding(secret, roots):
    """The text files under ``roots`` whose bytes contain ``secret`` (links, wheels,
    shared objects and bytecode are skipped)."""
    found = []
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                full = os.path.join(dirpath, name)
                if os.path.islink(full) or name.endswith((".whl", ".so", ".pyc")):
                    continue
                with open(full, "rb") as handle:
                    if secret.encode() in handle.read():
                        found.append(full)
    return found
