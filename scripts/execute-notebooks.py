#!/usr/bin/env python3
"""Executes notebooks on the tslab kernel, headless, and writes executed copies and HTML exports.

Usage: PYTHON scripts/execute-notebooks.py --output-dir out notebooks/01-....ipynb ...

PYTHON is any Python that imports nbformat, nbclient and nbconvert: scripts/run-notebooks.ts finds one
(SEEDLAB_PYTHON, python3, python, py -3, the Python of the `jupyter` command). Prints one JSON line per notebook:
  {"notebook", "ok", "cells", "seconds", "executed", "html", "failedCell", "message"}
and exits 1 when any notebook failed.

Why not `jupyter nbconvert --execute`: tslab's error replies carry no ename/evalue, so nbconvert
reports only "<Error>: " and, on failure, writes no notebook at all. Here we stop at the first
failing cell, keep the outputs so far (the real message is in that cell's stderr stream), and save
the partial notebook so the user can open it.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# The committed kernelspec. JUPYTER_PATH must be absolute, or the kernel dies before kernel_info.
os.environ["JUPYTER_PATH"] = os.path.join(ROOT, "jupyter")

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError  # noqa: E402
from nbconvert import HTMLExporter  # noqa: E402


def cell_stderr(cell):
    return "".join(
        "".join(output.get("text", ""))
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    )


def execute(path, output_dir, timeout):
    name = os.path.splitext(os.path.basename(path))[0]
    notebook = nbformat.read(path, as_version=4)
    # Start from outputs stripped, whatever Jupyter autosaved: a cell that fails must not leave the
    # outputs of an earlier session below it.
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = NotebookClient(
        notebook,
        kernel_name="seedlab",
        timeout=timeout,
        allow_errors=False,
        resources={"metadata": {"path": ROOT}},
    )
    started = time.monotonic()
    failed_cell = None
    message = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        code_cells = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
        # The failing cell is the last code cell that has started (it has an execution count).
        started_cells = [index for index in code_cells if notebook.cells[index].get("execution_count")]
        failed_cell = started_cells[-1] if started_cells else (code_cells[0] if code_cells else 0)
        stderr = cell_stderr(notebook.cells[failed_cell]).strip()
        if isinstance(error, CellTimeoutError):
            message = f"timed out after {timeout} s"
        elif isinstance(error, DeadKernelError):
            message = f"the kernel died: {error}"
        else:
            message = stderr or str(error).strip().splitlines()[-1]
    seconds = round(time.monotonic() - started, 1)

    os.makedirs(output_dir, exist_ok=True)
    executed_path = os.path.join(output_dir, name + ".ipynb")
    nbformat.write(notebook, executed_path)
    html_path = os.path.join(output_dir, name + ".html")
    body, _ = HTMLExporter().from_notebook_node(notebook)
    with open(html_path, "w", encoding="utf-8") as handle:
        handle.write(body)
    return {
        "notebook": path,
        "ok": failed_cell is None,
        "cells": sum(1 for cell in notebook.cells if cell.cell_type == "code"),
        "seconds": seconds,
        "executed": executed_path,
        "html": html_path,
        "failedCell": failed_cell,
        "message": message,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=os.path.join(ROOT, "out"))
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    parser.add_argument("notebooks", nargs="+")
    arguments = parser.parse_args()
    all_ok = True
    for path in arguments.notebooks:
        result = execute(path, arguments.output_dir, arguments.timeout)
        all_ok = all_ok and result["ok"]
        print(json.dumps(result), flush=True)
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
