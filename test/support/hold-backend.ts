// Opens the local backend, prints "ready <url>", then holds it until killed: stands in for a kernel
// in the tests that kill a backend's parent process.
import { openBackend } from "../../src/backend";
import { loadSettings } from "../../src/settings";

void openBackend(loadSettings({ env: {}, envFile: "/nonexistent/.env" })).then((backend) => {
  console.log(`ready ${backend.baseURL}`);
  setInterval(() => {}, 60000);
});
