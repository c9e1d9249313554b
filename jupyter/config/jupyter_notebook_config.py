# The classic Notebook (6) reads this file, Jupyter Server (JupyterLab, Notebook 7) jupyter_server_config.py:
# both get what npm start adds (see that file). load_subconfig is traitlets' own, given to every config file.
load_subconfig("jupyter_server_config.py")  # noqa: F821
