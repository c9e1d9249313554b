/**
 * Where the CPU went while a benchmark ran: samples the CPU time of this process's descendants (Jupyter's
 * executor, the tslab kernels, the model servers, ...) from /proc every 200 ms and adds it up by kind.
 * Linux only (elsewhere `startCpuAccounting` returns null and the benchmark says so). A process that exits
 * loses at most its last 200 ms; processes outside this process's tree (a busy neighbour) are not counted.
 */
import { readdirSync, readFileSync } from "node:fs";

/** CPU-seconds by kind of process, in the order printed. */
export interface CpuBreakdown {
  byKind: Array<{ kind: string; seconds: number; processes: number }>;
  totalSeconds: number;
}

const KINDS: Array<[kind: string, matches: (commandLine: string) => boolean]> = [
  // A kernel started from the kernel snapshot is two processes: launch-kernel.js and its child running tslab.
  ["tslab kernels and their launchers", (line) => line.includes("launch-kernel.js")],
  ["model servers", (line) => /local[/\\]serve\.(js|ts)/.test(line)],
  ["node-llama-cpp binary tests", (line) => line.includes("testBindingBinary")],
  ["Jupyter executor (Python)", (line) => line.includes("execute-notebooks.py")],
];
const OTHER = "other";
const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this runs on.

interface Sample {
  commandLine: string;
  ticks: number;
}

function readProcess(pid: string): { ppid: number; ticks: number; started: string; commandLine: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The fields after the name (see proc(5)): state ppid ... utime stime ... starttime.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    return {
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
      started: fields[19] ?? "",
      commandLine,
    };
  } catch {
    return null; // Exited between the listing and the read.
  }
}

/**
 * Starts sampling. Call the returned function to stop and get the breakdown.
 * @returns a stop function, or null when /proc is not there (not Linux).
 */
export function startCpuAccounting(): (() => CpuBreakdown) | null {
  if (process.platform !== "linux") return null;
  const root = process.pid;
  // Keyed by pid and start time: a recycled pid is another process.
  const seen = new Map<string, Sample>();
  const sample = (): void => {
    const parents = new Map<number, number>();
    const rows = new Map<number, { ticks: number; started: string; commandLine: string }>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const row = readProcess(entry);
      if (row === null) continue;
      parents.set(Number(entry), row.ppid);
      rows.set(Number(entry), row);
    }
    const descends = (pid: number): boolean => {
      for (let current = parents.get(pid), depth = 0; current !== undefined && depth < 32; depth++) {
        if (current === root) return true;
        current = parents.get(current);
      }
      return false;
    };
    for (const [pid, row] of rows) {
      if (!descends(pid)) continue;
      const key = `${pid}:${row.started}`;
      // An exiting process's command line reads empty: keep the one seen before.
      seen.set(key, { commandLine: row.commandLine || (seen.get(key)?.commandLine ?? ""), ticks: row.ticks });
    }
  };
  sample();
  const timer = setInterval(sample, 200);
  return () => {
    clearInterval(timer);
    sample();
    const totals = new Map<string, { seconds: number; processes: number }>();
    for (const { commandLine, ticks } of seen.values()) {
      const kind = KINDS.find(([, matches]) => matches(commandLine))?.[0] ?? OTHER;
      const total = totals.get(kind) ?? { seconds: 0, processes: 0 };
      total.seconds += ticks / TICKS_PER_SECOND;
      total.processes++;
      totals.set(kind, total);
    }
    const byKind = [...KINDS.map(([kind]) => kind), OTHER]
      .filter((kind) => totals.has(kind))
      .map((kind) => ({ kind, ...(totals.get(kind) as { seconds: number; processes: number }) }));
    return { byKind, totalSeconds: byKind.reduce((sum, each) => sum + each.seconds, 0) };
  };
}
