import os
import subprocess
import time

# A build that hangs, with a child of its own: venvbuild's build_timeout must
# stop both. The child's pid goes to $VBSLOW_PIDFILE for the test to check.
child = subprocess.Popen(["sleep", "600"])
if os.environ.get("VBSLOW_PIDFILE"):
    with open(os.environ["VBSLOW_PIDFILE"], "w") as handle:
        handle.write(f"{child.pid}\n")
time.sleep(600)
