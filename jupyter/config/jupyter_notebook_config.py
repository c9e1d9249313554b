# Read by `npm start`'s Jupyter (scripts/start.ts puts this folder in JUPYTER_CONFIG_PATH), besides the user's own
# configuration: kernel ports the system never hands out by itself, and an end with npm start however it ends
# (see scripts/npm_start_jupyter.py).
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts"))
from npm_start_jupyter import configure  # noqa: E402

configure()
