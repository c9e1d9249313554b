// Notebook 01 in a real browser, as a new user meets it: Jupyter's classic notebook serving the
// committed notebook (a copy in a scratch folder, so autosave never touches the working copy) with
// the committed tslab kernel, opened in Debian's Chromium (headless, driven by playwright-core, which
// never downloads a browser of its own), every cell run with Jupyter.notebook.execute_all_cells().
// Asserts no error output and that the diff table and the verdicts are visible; saves screenshots
// into out/browser/.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { randomBytes } from "node:crypto";
import { CHROMIUM_PATH } from "../scripts/ensure-chromium.mjs";
import { committedFile, stripNotebook } from "../scripts/notebook-files";
import { PROJECT_ROOT } from "../scripts/run-notebooks";
import { freePort } from "./support/processes";

const NAME = "01-reproducible-outputs.ipynb";
const SCREENSHOTS = join(PROJECT_ROOT, "out", "browser");
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const RUN_ALL_TIMEOUT_MS = 600000;

// Loaded at run time so that a missing package is a clear failure, not a compile error elsewhere.
type Playwright = typeof import("playwright-core");
type BrowserContext = Awaited<ReturnType<Playwright["chromium"]["launchPersistentContext"]>>;

let scratch: string;
let jupyter: ChildProcess | null = null;
let jupyterLog = "";
let context: BrowserContext | null = null;
let passed = false;

async function loadPlaywright(): Promise<Playwright> {
  try {
    return (await import("playwright-core")) as Playwright;
  } catch {
    throw new Error(
      "The browser test needs the npm package playwright-core (it drives the system Chromium). Run `npm install`.",
    );
  }
}

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "seedlab-browser-"));
  mkdirSync(join(scratch, "notebooks"));
  writeFileSync(
    join(scratch, "notebooks", NAME),
    stripNotebook(committedFile(join(PROJECT_ROOT, "notebooks", NAME)).text),
  );
  mkdirSync(SCREENSHOTS, { recursive: true });
});

after(async () => {
  // On a failure, what the page showed helps more than a timeout message.
  if (!passed)
    await context
      ?.pages()[0]
      ?.screenshot({ path: join(SCREENSHOTS, "notebook-01-failed.png") })
      .catch(() => {});
  await context?.close().catch(() => {});
  if (jupyter !== null && jupyter.exitCode === null && jupyter.signalCode === null) {
    const exited = new Promise((resolve) => jupyter?.once("exit", resolve));
    jupyter.kill("SIGTERM"); // Jupyter shuts its kernel down; the kernel's model server exits with it.
    await Promise.race([exited, sleep(20000)]);
    if (jupyter.exitCode === null && jupyter.signalCode === null) jupyter.kill("SIGKILL");
  }
  rmSync(scratch, { recursive: true, force: true });
});

test("notebook 01 runs in Chromium: no error output, the diff table and the verdicts are visible", async () => {
  const { chromium } = await loadPlaywright();
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: join(PROJECT_ROOT, "jupyter"),
    SEEDLAB_BACKEND: "local",
  };
  delete env.OPENAI_API_KEY;
  delete env.OPENAI_BASE_URL;
  const args = [
    "notebook",
    "--no-browser",
    "--ip=127.0.0.1",
    `--port=${port}`,
    "--port-retries=0",
    `--notebook-dir=${join(scratch, "notebooks")}`,
    `--NotebookApp.token=${token}`,
  ];
  if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--allow-root");
  jupyter = spawn("jupyter", args, { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  jupyter.stdout?.setEncoding("utf8").on("data", (chunk: string) => (jupyterLog += chunk));
  jupyter.stderr?.setEncoding("utf8").on("data", (chunk: string) => (jupyterLog += chunk));
  const deadline = Date.now() + 60000;
  while (!jupyterLog.includes(`127.0.0.1:${port}/`)) {
    assert.ok(Date.now() < deadline && jupyter.exitCode === null, `Jupyter did not start:\n${jupyterLog}`);
    await sleep(200);
  }

  context = await chromium.launchPersistentContext(mkdtempSync(join(scratch, "profile-")), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`http://127.0.0.1:${port}/notebooks/${NAME}?token=${token}`);
  // The kernel is ready once it has answered kernel_info.
  await page.waitForFunction(
    () => {
      const jupyterGlobal = (
        globalThis as unknown as {
          Jupyter?: { notebook?: { kernel?: { is_connected(): boolean; info_reply?: { implementation?: string } } } };
        }
      ).Jupyter;
      const kernel = jupyterGlobal?.notebook?.kernel;
      return (
        kernel !== undefined &&
        kernel !== null &&
        kernel.is_connected() &&
        kernel.info_reply?.implementation === "tslab"
      );
    },
    undefined,
    { timeout: 120000 },
  );

  await page.evaluate(() =>
    (
      globalThis as unknown as { Jupyter: { notebook: { execute_all_cells(): void } } }
    ).Jupyter.notebook.execute_all_cells(),
  );
  // Done when every code cell has its execution count and the kernel is idle again.
  await page.waitForFunction(
    () => {
      const notebook = (
        globalThis as unknown as {
          Jupyter: {
            notebook: {
              get_cells(): Array<{ cell_type: string; input_prompt_number?: number | string | null }>;
              kernel: { _msg_callbacks?: object };
            };
          };
        }
      ).Jupyter.notebook;
      const code = notebook.get_cells().filter((cell) => cell.cell_type === "code");
      return (
        code.every((cell) => typeof cell.input_prompt_number === "number") &&
        (globalThis as unknown as { document: { querySelector(selector: string): unknown } }).document.querySelector(
          "#kernel_indicator_icon.kernel_idle_icon",
        ) !== null
      );
    },
    undefined,
    { timeout: RUN_ALL_TIMEOUT_MS, polling: 500 },
  );

  const outputs = await page.evaluate(() => {
    const notebook = (
      globalThis as unknown as {
        Jupyter: {
          notebook: {
            get_cells(): Array<{
              cell_type: string;
              output_area?: {
                outputs: Array<{ output_type: string; name?: string; text?: string; ename?: string; evalue?: string }>;
              };
            }>;
          };
        };
      }
    ).Jupyter.notebook;
    return notebook.get_cells().flatMap((cell) => cell.output_area?.outputs ?? []);
  });
  const errors = outputs.filter(
    (output) => output.output_type === "error" || (output.output_type === "stream" && output.name === "stderr"),
  );
  assert.deepEqual(errors, [], "no cell shows an error");
  assert.equal(await page.locator(".output_error, .output_stderr").count(), 0, "no error is shown on the page");

  // The unseeded batch: the guide's table with inline word diffs, visible.
  const unseeded = page
    .locator("table.seedlab-table", { has: page.locator("caption", { hasText: /^no seed, temperature 0\.7 — / }) })
    .first();
  await unseeded.scrollIntoViewIfNeeded();
  assert.ok(await unseeded.isVisible(), "the unseeded batch table is visible");
  assert.ok((await unseeded.locator("ins.seedlab-added, del.seedlab-removed").count()) > 0, "it shows word diffs");
  assert.ok(
    await unseeded.locator("ins.seedlab-added, del.seedlab-removed").first().isVisible(),
    "the diffs are visible",
  );
  // The page scrolls inside Jupyter's own pane: screenshots of the viewport, scrolled to each table.
  await unseeded
    .locator("caption")
    .evaluate((caption) =>
      (caption as unknown as { scrollIntoView(options: object): void }).scrollIntoView({ block: "start" }),
    );
  await page.screenshot({ path: join(SCREENSHOTS, "notebook-01-unseeded-diff.png") });

  // The verdicts: one comparison per batch, captioned with the verdict line.
  const verdicts = page.locator("table.seedlab-comparison caption");
  assert.equal(await verdicts.count(), 2, "two verdicts (unseeded, seeded)");
  const texts = await verdicts.allInnerTexts();
  assert.match(texts[1] ?? "", /^5\/5 identical · 1 fingerprint · parameters identical$/, "the seeded verdict");
  assert.doesNotMatch(texts[0] ?? "", /^5\/5 identical/, "the unseeded verdict is not all identical");
  for (let index = 0; index < 2; index++) {
    await verdicts.nth(index).scrollIntoViewIfNeeded();
    assert.ok(await verdicts.nth(index).isVisible(), `verdict ${index + 1} is visible`);
  }
  const checks = page.locator("table.seedlab-table caption", { hasText: "Verification: 3/3 checks pass" }).first();
  await checks.scrollIntoViewIfNeeded();
  assert.ok(await checks.isVisible(), "the seeded checks pass, visibly");
  await verdicts
    .nth(1)
    .evaluate((caption) =>
      (caption as unknown as { scrollIntoView(options: object): void }).scrollIntoView({ block: "start" }),
    );
  await page.screenshot({ path: join(SCREENSHOTS, "notebook-01-seeded-verdict.png") });
  passed = true;
});
