"""What `npm start` adds to its Jupyter's configuration (jupyter/config/, through JUPYTER_CONFIG_PATH).

- Kernel ports below the system's ephemeral range (scripts/kernel_ports.py).
- Jupyter ends when the `npm start` that started it is gone, however it ended. It runs in its own process group
  (so that a terminal's Ctrl+C reaches npm start only, which stops it once) and would otherwise outlive an npm
  start killed outright (SIGKILL, a crash), with its kernels. Its kernels end with it (launch-kernel.js).
"""
import os
import signal
import threading
import time

from kernel_ports import keep_kernel_ports_out_of_the_ephemeral_range

OWNER_VARIABLE = "SEEDLAB_JUPYTER_OWNER_PID"
WATCH_THREAD = "seedlab-owner-watch"


def stop_when_owner_is_gone():
    """Sends this Jupyter SIGTERM (its own clean shutdown: kernels first) once its parent, npm start, is gone.

    Only when SEEDLAB_JUPYTER_OWNER_PID names this process's parent (npm start sets it); POSIX only: a process
    whose parent ends gets another parent there. Polls once a second, on a daemon thread.
    """
    owner = os.environ.get(OWNER_VARIABLE, "")
    if os.name != "posix" or not owner.isdigit() or int(owner) != os.getppid():
        return
    if any(thread.name == WATCH_THREAD for thread in threading.enumerate()):
        return  # watching already (Notebook 7 reads both config files)

    def watch():
        while os.getppid() == int(owner):
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name=WATCH_THREAD, daemon=True).start()


def configure():
    """Both steps; each does nothing the second time."""
    keep_kernel_ports_out_of_the_ephemeral_range()
    stop_when_owner_is_gone()
