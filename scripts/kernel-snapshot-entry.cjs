// The entry of the kernel's V8 startup snapshot (see kernel-snapshot.mjs, which builds and checks it).
//
// Why: a tslab kernel type-checks every cell against the Node declarations (@types/node), the openai SDK's
// and seedlab's. Before its first cell it loads TypeScript and parses and binds about 300 declaration files
// (5 MB), 2 to 4 CPU-seconds per kernel; three kernels start at once in the walkthrough. A snapshot holds
// TypeScript already loaded and those files already parsed and bound, and a kernel started from it maps them
// in instead (node --snapshot-blob).
//
// Build: node [KERNEL_NODE_FLAGS] --snapshot-blob BLOB --build-snapshot kernel-snapshot-entry.cjs PROJECT_ROOT
//   (a snapshot runs only under the V8 flags it was built with: kernel-snapshot.mjs's KERNEL_NODE_FLAGS)
//   Loads tslab's TypeScript and its converter, lets the converter compile a cell that imports tslab and
//   ./dist/index (so every declaration file a notebook's import reaches is parsed and bound with tslab's own
//   compiler options), keeps those SourceFiles of node_modules (not dist/, which changes with src/), and
//   closes the converter. Only Node's built-in `require` works while a snapshot is built, so the few modules
//   involved are loaded by `loadCommonJs` below.
// Run:   node [KERNEL_NODE_FLAGS] --snapshot-blob BLOB .../launch-kernel.js CONNECTION_FILE PROJECT_ROOT (as launch-kernel.js)
//   Puts the snapshot's TypeScript into Node's module cache (tslab's `require` gets it), makes tslab's
//   compiler host return a kept SourceFile when the file on disk still has exactly its text (read once per
//   file), and runs launch-kernel.js, which starts tslab in this process.
// Check: node [KERNEL_NODE_FLAGS] --snapshot-blob BLOB kernel-snapshot-entry.cjs --check CELLS_JSON
//   Compiles each cell of CELLS_JSON (an array of strings) in sequence like tslab does and prints one JSON
//   line: the outputs and diagnostics, and how many kept files were used. kernel-snapshot.mjs compares that
//   with the same cells compiled without the snapshot before it installs a new snapshot.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const v8 = require("node:v8");

/** Loads a CommonJS file and what it requires (Node's built-ins, relative files, packages in node_modules). */
function loadCommonJs(filename, loaded = new Map(), substitutes = new Map()) {
  if (substitutes.has(filename)) return substitutes.get(filename);
  if (loaded.has(filename)) return loaded.get(filename).exports;
  const module = { exports: {}, filename };
  loaded.set(filename, module);
  if (filename.endsWith(".json")) {
    module.exports = JSON.parse(fs.readFileSync(filename, "utf8"));
    return module.exports;
  }
  const requireHere = (request) => {
    if (!request.startsWith(".") && !path.isAbsolute(request)) {
      try {
        return require(request); // a built-in module (the only kind this `require` loads while building)
      } catch {
        // a package: resolved below
      }
    }
    return loadCommonJs(resolveCommonJs(path.dirname(filename), request), loaded, substitutes);
  };
  const source = fs.readFileSync(filename, "utf8");
  const wrapper = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename,
  });
  wrapper.call(module.exports, module.exports, requireHere, module, filename, path.dirname(filename));
  return module.exports;
}

/**
 * Node's resolution for the cases these modules use: relative files and packages' `main`, as real paths (as
 * Node's `require` names them, so the kernel's `require` finds the snapshot's TypeScript under the same name
 * even when node_modules is a symbolic link).
 */
function resolveCommonJs(folder, request) {
  return fs.realpathSync(resolveCommonJsPath(folder, request));
}

function resolveCommonJsPath(folder, request) {
  const asFile = (base) =>
    [base, `${base}.js`, `${base}.json`, path.join(base, "index.js")].find(
      (candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile(),
    );
  if (request.startsWith(".") || path.isAbsolute(request)) {
    const found = asFile(path.resolve(folder, request));
    if (found) return found;
  } else {
    for (let dir = folder; ; dir = path.dirname(dir)) {
      const packageDir = path.join(dir, "node_modules", request);
      if (fs.existsSync(packageDir)) {
        const manifest = path.join(packageDir, "package.json");
        const main = fs.existsSync(manifest) ? JSON.parse(fs.readFileSync(manifest, "utf8")).main : undefined;
        const found = (main && asFile(path.join(packageDir, main))) || asFile(packageDir);
        if (found) return found;
      }
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error(`kernel snapshot: cannot resolve ${request} from ${folder}`);
}

/**
 * The snapshot's TypeScript as tslab sees it: the module's exports (esbuild getters, not assignable) behind an
 * object whose functions can be replaced, and the kept SourceFiles.
 */
function prepare(root) {
  const converterFile = path.join(root, "node_modules", "tslab", "dist", "converter.js");
  const typescriptFile = resolveCommonJs(path.dirname(converterFile), "@tslab/typescript-for-tslab");
  const loaded = new Map();
  const ts = loadCommonJs(typescriptFile, loaded);
  const replaced = {};
  const typescript = {};
  for (const name of Object.keys(ts)) {
    Object.defineProperty(typescript, name, {
      enumerable: true,
      get: () => (name in replaced ? replaced[name] : ts[name]),
    });
  }
  const { createConverter } = loadCommonJs(converterFile, loaded, new Map([[typescriptFile, typescript]]));

  // No file or folder watchers while building: a snapshot cannot hold open handles.
  const realWatchers = { watchFile: ts.sys.watchFile, watchDirectory: ts.sys.watchDirectory };
  ts.sys.watchFile = () => ({ close() {} });
  ts.sys.watchDirectory = () => ({ close() {} });
  let watch = null;
  replaced.createWatchProgram = (host) => (watch = ts.createWatchProgram(host));
  const previousFolder = process.cwd();
  process.chdir(root); // tslab compiles relative to the working folder, as in a kernel (launch-kernel.js).
  const converter = createConverter();
  const result = converter.convert("", 'import * as tslab from "tslab";\nimport * as seedlab from "./dist/index";\n');
  if (result.diagnostics.length > 0) {
    throw new Error(
      `kernel snapshot: the import cell does not compile: ${result.diagnostics.map((d) => d.messageText).join("; ")}`,
    );
  }
  const kept = new Map();
  for (const file of watch.getProgram().getProgram().getSourceFiles()) {
    if (file.fileName.includes("/node_modules/")) kept.set(file.fileName, file);
  }
  converter.close();
  watch = null; // the program and its type checker: not in the snapshot (`watch` lives on in this closure's context)
  process.chdir(previousFolder);
  delete replaced.createWatchProgram;
  Object.assign(ts.sys, realWatchers);
  return { ts, typescript, typescriptFile, replaced, kept, root };
}

/** At run time: tslab's `require` gets the snapshot's TypeScript, and its programs reuse the kept files. */
function install({ ts, typescript, typescriptFile, replaced, kept, root }) {
  const Module = require("node:module");
  const module = new Module(typescriptFile, null);
  module.filename = typescriptFile;
  module.paths = Module._nodeModulePaths(path.dirname(typescriptFile));
  module.exports = typescript;
  module.loaded = true;
  Module._cache[typescriptFile] = module;

  const state = { root, keptFiles: kept.size, reusedFiles: 0, changedFiles: [] };
  const checked = new Map(); // fileName -> whether the kept SourceFile still has the file's text
  const keptFor = (fileName, readFile) => {
    const file = kept.get(fileName);
    if (file === undefined) return undefined;
    let same = checked.get(fileName);
    if (same === undefined) {
      same = readFile(fileName) === file.text;
      checked.set(fileName, same);
      if (same) state.reusedFiles++;
      else state.changedFiles.push(fileName);
    }
    return same ? file : undefined;
  };
  replaced.createWatchCompilerHost = (...args) => {
    const host = ts.createWatchCompilerHost(...args);
    const createProgram = host.createProgram;
    host.createProgram = function (rootNames, options, compilerHost, ...rest) {
      if (compilerHost && !compilerHost.seedlabKeptFiles) {
        compilerHost.seedlabKeptFiles = true;
        const readFile = (fileName) => compilerHost.readFile(fileName);
        const { getSourceFile, getSourceFileByPath } = compilerHost;
        // (fileName, [path,] languageVersionOrOptions, onError, shouldCreateNewSourceFile)
        compilerHost.getSourceFile = function (fileName, ...more) {
          return (!more[2] && keptFor(fileName, readFile)) || getSourceFile.call(this, fileName, ...more);
        };
        if (getSourceFileByPath) {
          compilerHost.getSourceFileByPath = function (fileName, filePath, ...more) {
            return (
              (!more[2] && keptFor(fileName, readFile)) || getSourceFileByPath.call(this, fileName, filePath, ...more)
            );
          };
        }
      }
      return createProgram.call(this, rootNames, options, compilerHost, ...rest);
    };
    return host;
  };
  return state;
}

/** Compiles cells in sequence as tslab's kernel does (each cell sees the previous cells' declarations). */
function compileCells(root, cells) {
  const { createConverter } = require("node:module").createRequire(path.join(root, "package.json"))(
    "tslab/dist/converter.js",
  );
  process.chdir(root);
  const converter = createConverter();
  let declarations = "";
  const results = cells.map((cell) => {
    const result = converter.convert(declarations, cell);
    if (result.declOutput) declarations = result.declOutput;
    return {
      output: result.output ?? null,
      declOutput: result.declOutput ?? null,
      diagnostics: result.diagnostics.map((d) => [d.start, d.length, d.category, d.code, d.messageText]),
    };
  });
  converter.close();
  return results;
}

const building = v8.startupSnapshot?.isBuildingSnapshot?.() ?? false;
if (building) {
  const root = path.resolve(process.argv[2] ?? "");
  const prepared = prepare(root);
  v8.startupSnapshot.setDeserializeMainFunction(() => {
    const state = install(prepared);
    globalThis.seedlabKernelSnapshot = state;
    if (process.argv[2] === "--check") {
      const cells = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
      const results = compileCells(state.root, cells);
      process.stdout.write(`${JSON.stringify({ results, ...state })}\n`);
      return;
    }
    // launch-kernel.js, run as the main module would be: it sees globalThis.seedlabKernelSnapshot and starts tslab.
    const launcher = path.resolve(process.argv[1]);
    require("node:module").createRequire(launcher)(launcher);
  });
} else if (process.argv[2] === "--compile") {
  // The same cells without the snapshot: node kernel-snapshot-entry.cjs --compile CELLS_JSON PROJECT_ROOT
  const cells = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
  process.stdout.write(`${JSON.stringify({ results: compileCells(path.resolve(process.argv[4]), cells) })}\n`);
} else {
  console.error("kernel-snapshot-entry.cjs: build it with --build-snapshot (see scripts/kernel-snapshot.mjs).");
  process.exit(2);
}
