#!/usr/bin/python3
"""Runs code in a running Jupyter kernel, as a notebook cell does, and prints what came back.

Usage: /usr/bin/python3 test/support/kernel-exec.py CONNECTION_FILE [TIMEOUT_S] < code

Prints one JSON line: {"status": "ok"|"error"|"timeout", "stdout", "stderr", "html", "error"}.
Runs on Debian's Python (jupyter_client); used by the tests that drive `npm start`'s kernels.
"""
import json
import queue
import sys

from jupyter_client import BlockingKernelClient


def main():
    connection_file = sys.argv[1]
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 120.0
    code = sys.stdin.read()
    client = BlockingKernelClient(connection_file=connection_file)
    client.load_connection_file()
    client.start_channels()
    result = {"status": "timeout", "stdout": "", "stderr": "", "html": "", "error": ""}
    try:
        # The kernel is up once it answers kernel_info (as Jupyter itself checks).
        info_id = client.kernel_info()
        while client.get_shell_msg(timeout=timeout)["parent_header"].get("msg_id") != info_id:
            pass
        msg_id = client.execute(code)
        while True:
            try:
                message = client.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                break
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            content = message["content"]
            if kind == "stream":
                result[content["name"]] += content["text"]
            elif kind in ("display_data", "execute_result", "update_display_data"):
                result["html"] += content.get("data", {}).get("text/html", "")
                result["stdout"] += content.get("data", {}).get("text/plain", "") if kind == "execute_result" else ""
            elif kind == "error":
                result["error"] += content.get("evalue", "") + "\n".join(content.get("traceback", []))
            elif kind == "status" and content["execution_state"] == "idle":
                reply = client.get_shell_msg(timeout=timeout)
                result["status"] = reply["content"]["status"]
                break
    finally:
        client.stop_channels()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
