#!/usr/bin/env python3
"""Executes notebooks on the tslab kernel, headless, and writes executed copies and HTML exports.

Usage: PYTHON scripts/execute-notebooks.py [--jobs N] --output-dir out notebooks/01-....ipynb ...

PYTHON is any Python that imports nbformat, nbclient and nbconvert: scripts/run-notebooks.ts finds one
(SEEDLAB_PYTHON, python3, python, py -3, the Python of the `jupyter` command). `--jobs N` executes up
to N notebooks at once, each in its own kernel (default 1). Prints one JSON line per notebook as it
finishes:
  {"notebook", "ok", "cells", "seconds", "executed", "html", "failedCell", "message", "timing"}
where "timing" is {"kernelStartSeconds", "cells": [{"index", "seconds", "outputs": [[seconds, kind], ...]}]}:
each code cell's wall time and when each of its outputs arrived ("display" = a new display,
"display:live" = a new display that is later updated in place, "update" = such an update, "stream",
"result", "error"), seconds since the cell started. Exits 1 when any notebook failed.

Why not `jupyter nbconvert --execute`: tslab's error replies carry no ename/evalue, so nbconvert
reports only "<Error>: " and, on failure, writes no notebook at all. Here we stop at the first
failing cell, keep the outputs so far (the real message is in that cell's stderr stream), and save
the partial notebook so the user can open it.
"""
import argparse
import asyncio
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# The committed kernelspec. JUPYTER_PATH must be absolute, or the kernel dies before kernel_info.
os.environ["JUPYTER_PATH"] = os.path.join(ROOT, "jupyter")

import nbformat  # noqa: E402
from kernel_ports import keep_kernel_ports_out_of_the_ephemeral_range  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError  # noqa: E402
# nbconvert (for the HTML exports) is imported when the first notebook is done: its 0.3 s import would
# otherwise delay every kernel's start.

OUTPUT_KINDS = {
    "display_data": "display",
    "update_display_data": "update",
    "stream": "stream",
    "execute_result": "result",
    "error": "error",
}
MAX_EVENTS_PER_CELL = 200


_exporter = None


def html_exporter():
    """One HTML exporter for every notebook: it compiles its templates once (0.3 s each time otherwise)."""
    global _exporter
    if _exporter is None:
        from nbconvert import HTMLExporter

        _exporter = HTMLExporter()
        # Validate a notebook once, not after each of the exporter's preprocessors (each validation compiled the
        # schema again: about a second of CPU per walkthrough). Older nbconvert has no such setting.
        if _exporter.has_trait("optimistic_validation"):
            _exporter.optimistic_validation = True
    return _exporter


class TimedClient(NotebookClient):
    """A NotebookClient that records when the kernel was ready and when each cell's outputs arrived."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.created = time.monotonic()
        self.kernel_ready = None
        self.cell_timings = {}
        self.on_notebook_start = self._notebook_started
        self.on_cell_execute = self._cell_started
        self.on_cell_executed = self._cell_finished

    def _notebook_started(self, notebook):
        self.kernel_ready = time.monotonic()

    def _cell_started(self, cell, cell_index):
        self.cell_timings[cell_index] = {"index": cell_index, "started": time.monotonic(), "seconds": None, "outputs": []}

    def _cell_finished(self, cell, cell_index, execute_reply):
        timing = self.cell_timings.get(cell_index)
        if timing is not None:
            timing["seconds"] = round(time.monotonic() - timing["started"], 2)

    def process_message(self, msg, cell, cell_index):
        kind = OUTPUT_KINDS.get(msg.get("msg_type"))
        timing = self.cell_timings.get(cell_index)
        if kind is not None and timing is not None and len(timing["outputs"]) < MAX_EVENTS_PER_CELL:
            if kind == "display" and msg["content"].get("transient", {}).get("display_id"):
                kind = "display:" + msg["content"]["transient"]["display_id"]
            elif kind == "update":
                kind = "update:" + msg["content"].get("transient", {}).get("display_id", "")
            timing["outputs"].append([round(time.monotonic() - timing["started"], 2), kind])
        return super().process_message(msg, cell, cell_index)

    def timing(self):
        cells = []
        for index in sorted(self.cell_timings):
            timing = dict(self.cell_timings[index])
            started = timing.pop("started")
            if timing["seconds"] is None:
                timing["seconds"] = round(time.monotonic() - started, 2)
            # Name a display "display:live" when an update for it follows, "display" otherwise.
            updated = {kind[len("update:"):] for _, kind in timing["outputs"] if kind.startswith("update:")}
            timing["outputs"] = [
                [seconds, ("display:live" if kind[len("display:"):] in updated else "display") if kind.startswith("display:")
                 else "update" if kind.startswith("update:") else kind]
                for seconds, kind in timing["outputs"]
            ]
            cells.append(timing)
        ready = self.kernel_ready
        return {
            "kernelStartSeconds": round(ready - self.created, 2) if ready is not None else None,
            "cells": cells,
        }


def cell_stderr(cell):
    return "".join(
        "".join(output.get("text", ""))
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    )


KERNEL_STARTS = 3


async def execute_in_a_kernel(name, notebook, timeout):
    """Runs the notebook's cells in a new kernel; returns the client and the error that stopped it, if any.

    A kernel that does not start (its ports were taken, see keep_kernel_ports_out_of_the_ephemeral_range) is
    replaced by another on new ports, up to KERNEL_STARTS in all; nothing has run in it yet.
    """
    for attempt in range(1, KERNEL_STARTS + 1):
        client = TimedClient(
            notebook,
            kernel_name="seedlab",
            timeout=timeout,
            allow_errors=False,
            resources={"metadata": {"path": ROOT}},
        )
        try:
            await client.async_execute()
            return client, None
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            return client, error
        except RuntimeError as error:
            # nbclient's "Kernel died before replying to kernel_info" / "Kernel didn't respond in 60 seconds".
            if client.kernel_ready is not None or attempt == KERNEL_STARTS:
                return client, error
            print(f"execute-notebooks.py: the kernel for {name} did not start ({error}); starting another.",
                  file=sys.stderr, flush=True)


async def execute(path, output_dir, timeout):
    name = os.path.splitext(os.path.basename(path))[0]
    notebook = nbformat.read(path, as_version=4)
    # Start from outputs stripped, whatever Jupyter autosaved: a cell that fails must not leave the
    # outputs of an earlier session below it.
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    started = time.monotonic()
    client, error = await execute_in_a_kernel(name, notebook, timeout)
    failed_cell = None
    message = None
    if error is not None:
        code_cells = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
        # The failing cell is the last code cell that has started (it has an execution count).
        started_cells = [index for index in code_cells if notebook.cells[index].get("execution_count")]
        failed_cell = started_cells[-1] if started_cells else (code_cells[0] if code_cells else 0)
        stderr = cell_stderr(notebook.cells[failed_cell]).strip()
        if isinstance(error, CellTimeoutError):
            message = f"timed out after {timeout} s"
        elif isinstance(error, DeadKernelError):
            message = f"the kernel died: {error}"
        elif client.kernel_ready is None:
            message = f"the kernel did not start ({KERNEL_STARTS} tries): {error}"
        else:
            message = stderr or str(error).strip().splitlines()[-1]
    seconds = round(time.monotonic() - started, 1)

    os.makedirs(output_dir, exist_ok=True)
    executed_path = os.path.join(output_dir, name + ".ipynb")
    nbformat.write(notebook, executed_path)
    html_path = os.path.join(output_dir, name + ".html")
    body, _ = html_exporter().from_notebook_node(notebook, resources={"metadata": {"name": name}})  # the page title
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
        "timing": client.timing(),
    }


async def execute_all(paths, output_dir, timeout, jobs):
    slots = asyncio.Semaphore(jobs)
    all_ok = True

    async def one(path):
        nonlocal all_ok
        async with slots:
            result = await execute(path, output_dir, timeout)
        all_ok = all_ok and result["ok"]
        print(json.dumps(result), flush=True)

    await asyncio.gather(*(one(path) for path in paths))
    return all_ok


def main():
    keep_kernel_ports_out_of_the_ephemeral_range()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default=os.path.join(ROOT, "out"))
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks executed at once")
    parser.add_argument("notebooks", nargs="+")
    arguments = parser.parse_args()
    all_ok = asyncio.run(execute_all(arguments.notebooks, arguments.output_dir, arguments.timeout, max(1, arguments.jobs)))
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
