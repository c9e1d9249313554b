# Read by `npm start`'s Jupyter (scripts/start.ts puts this folder in JUPYTER_CONFIG_PATH), besides the user's own
# configuration: kernels get ports the system never hands out by itself (see scripts/kernel_ports.py).
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts"))
from kernel_ports import keep_kernel_ports_out_of_the_ephemeral_range  # noqa: E402

keep_kernel_ports_out_of_the_ephemeral_range()
