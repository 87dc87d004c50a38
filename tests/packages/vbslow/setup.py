import os
import shlex
import subprocess
import time

# A build that hangs, with a child of its own: venvbuild's build_timeout must
# stop both. The child's pid goes to the file a C define names in CFLAGS
# (-DVBSLOW_PIDFILE=<path>), for the test to check: build_env passes CFLAGS.
child = subprocess.Popen(["sleep", "600"])
for flag in shlex.split(os.environ.get("CFLAGS", "")):
    if flag.startswith("-DVBSLOW_PIDFILE="):
        with open(flag.split("=", 1)[1], "w") as handle:
            handle.write(f"{child.pid}\n")
time.sleep(600)
