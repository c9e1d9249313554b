"""Kernel ports the system never hands out by itself.

Jupyter picks a kernel's ports by binding port 0 and closing the socket, writes them in the connection file, and
starts the kernel; until the kernel binds them, any outgoing connection (another kernel's requests to the model
server, a client's connections to a kernel) can take one, and that kernel cannot start (launch-kernel.js then
exits: scripts/execute-notebooks.py starts another; Jupyter's restarter tries again on the same ports). Ports below
the system's ephemeral range are never given to outgoing connections or to port 0: Linux says where its range
starts in /proc (32768 by default); macOS and Windows start theirs at 49152.

Used by scripts/execute-notebooks.py and, through jupyter/config/ (JUPYTER_CONFIG_PATH), by `npm start`'s Jupyter.
"""
import random
import socket

LOWEST = 20000
HIGHEST = 32767


def kernel_port_range():
    """The ports to choose from, (low, high) inclusive, or None when the system's range leaves too few."""
    high = HIGHEST
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as handle:
            high = min(high, int(handle.read().split()[0]) - 1)
    except (OSError, ValueError, IndexError):
        pass
    return (LOWEST, high) if high - LOWEST >= 1000 else None


def keep_kernel_ports_out_of_the_ephemeral_range():
    """Makes Jupyter's port choice (LocalPortCache, used for every local kernel) pick from kernel_port_range()."""
    try:
        from jupyter_client.connect import LocalPortCache
    except ImportError:
        return  # jupyter_client before 7 picks ports another way: keep it

    chosen_range = kernel_port_range()
    if chosen_range is None or getattr(LocalPortCache, "seedlab_ports", None) is not None:
        return  # an unusual ephemeral range (keep Jupyter's own choice), or done already
    low, high = chosen_range
    original = LocalPortCache.find_available_port

    def find_available_port(cache, ip):
        for _ in range(100):
            port = random.randint(low, high)
            if port in cache.currently_used_ports:
                continue
            with socket.socket() as probe:
                try:
                    probe.bind((ip, port))
                except OSError:
                    continue
            cache.currently_used_ports.add(port)
            return port
        return original(cache, ip)

    LocalPortCache.find_available_port = find_available_port
    LocalPortCache.seedlab_ports = chosen_range
