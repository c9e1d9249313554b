"""Runs scripts/execute-notebooks.py as `npm run walkthrough` does, except that another process holds one of the
first kernel's ports (a listening socket opened here): the fault that port selection in Jupyter cannot rule out.

Usage: PYTHON test/support/taken-port-executor.py --output-dir DIR NOTEBOOK
Prints "taken port N" on stderr, then whatever the executor prints.
"""
import importlib.util
import os
import socket
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))  # as when the executor runs as a script
spec = importlib.util.spec_from_file_location("execute_notebooks", os.path.join(ROOT, "scripts", "execute-notebooks.py"))
executor = importlib.util.module_from_spec(spec)
spec.loader.exec_module(executor)

from jupyter_client.connect import LocalPortCache  # noqa: E402

held = socket.socket()
held.bind(("127.0.0.1", 0))
held.listen()
taken = held.getsockname()[1]
print(f"taken port {taken}", file=sys.stderr, flush=True)

executor.keep_kernel_ports_out_of_the_ephemeral_range()
choose = LocalPortCache.find_available_port
chosen = 0


def first_kernel_gets_the_taken_port(cache, ip):
    """The first kernel's second port (its IOPub port) is the one held above."""
    global chosen
    chosen += 1
    return taken if chosen == 2 else choose(cache, ip)


LocalPortCache.find_available_port = first_kernel_gets_the_taken_port
executor.keep_kernel_ports_out_of_the_ephemeral_range = lambda: None
sys.argv = [executor.__file__, *sys.argv[1:]]
executor.main()
