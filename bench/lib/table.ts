/**
 * Plain-text tables for the terminal: every figure side by side, then for each
 * kvq system its ratio to every other system.
 */
import type { Ratio, SystemOutcome } from "./results.ts";
import { SCENARIOS } from "./scenario_list.ts";

/** Formats a figure: thousands separators from 1,000, three significant digits below. */
export function fmt(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "-";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  return Number(value.toPrecision(3)).toString();
}

function render(rows: string[][]): string {
  const widths = rows[0].map((_, c) =>
    Math.max(...rows.map((r) => r[c].length))
  );
  return rows
    .map((r) =>
      r.map((cell, c) =>
        c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])
      ).join("  ")
    )
    .join("\n");
}

/** The figures of every system that ran, one row per scenario figure. */
export function figuresTable(systems: SystemOutcome[]): string {
  const shown = systems.filter((s) => s.status !== "skipped");
  const rows: string[][] = [[
    "scenario / figure",
    ...shown.map((s) => s.label),
  ]];
  for (const info of SCENARIOS) {
    for (const m of info.metrics) {
      const row = [`${info.title}: ${m.name} (${m.unit})`];
      for (const s of shown) {
        const o = s.scenarios[info.id];
        if (!o) row.push("-");
        else if (o.status === "n/a") row.push("n/a");
        else if (o.status === "failed") row.push("FAIL");
        else if (o.status !== "ok") row.push("-");
        else row.push(fmt(o.median[m.name]) + (o.complete ? "" : "*"));
      }
      rows.push(row);
    }
  }
  return render(rows);
}

/** For one kvq system: its ratio to every other system, figure by figure. */
export function ratioTable(
  kvq: SystemOutcome,
  all: SystemOutcome[],
  list: Ratio[],
): string {
  const others = all.filter((s) => s !== kvq && s.status === "ok");
  const rows: string[][] = [[`${kvq.label} vs`, ...others.map((s) => s.label)]];
  for (const info of SCENARIOS) {
    for (const m of info.metrics) {
      const row = [`${info.title}: ${m.name}`];
      for (const o of others) {
        const r = list.find((x) =>
          x.kvq === kvq.id && x.other === o.id && x.scenario === info.id &&
          x.metric === m.name
        );
        row.push(r ? `${fmt(r.ratio)}x` : "-");
      }
      rows.push(row);
    }
  }
  return render(rows);
}

/** One line per system that did not run, and why. */
export function notes(systems: SystemOutcome[]): string {
  const lines: string[] = [];
  for (const s of systems) {
    if (s.status !== "ok") {
      lines.push(`${s.label}: ${s.status}: ${s.note ?? ""}`);
    }
    for (const [id, o] of Object.entries(s.scenarios)) {
      if (o.status === "failed" || o.status === "skipped") {
        lines.push(`${s.label} ${id}: ${o.status}: ${o.note ?? ""}`);
      }
    }
  }
  return lines.join("\n");
}
