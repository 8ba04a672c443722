// Reads the ratio tables of a README's benchmark section, for the charts. A column is a ratio
// when its header says so ("ratio", "vs …", "ours ÷ client", "ring / jose") and most of its
// cells are numbers such as `1.05`, `**2.19×**` or `89.51x`; its range comes from a "range"
// column beside it or from `(0.99–1.10)` in the cell. The labels are the leading text columns.
import { existsSync, readFileSync } from 'node:fs';
import { benchHeading, readmePath, section } from './readme.js';

export interface BenchRow {
  label: string;
  value: number;
  min?: number;
  max?: number;
}

export interface BenchChartData {
  /** The ratio column's header, as the README writes it. */
  title: string;
  /** The header of the table's first column (what each row is). */
  subject: string;
  rows: BenchRow[];
}

const ratioHeader = /ratio|\bvs\b|÷|\s\/\s|\bover\b/i;
const number = /^\s*(\d+(?:[.,]\d+)?)\s*[×x]?/;
const rangeText = /(\d+(?:\.\d+)?)\s*[–—-]\s*(\d+(?:\.\d+)?)/;

/** Strips Markdown emphasis and code marks from a table cell. */
export const plain = (cell: string) => cell.replace(/\*\*|__|`/g, '').trim();

function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.trim());
}

/** A cell that holds no figure: empty, "n/a", a dash. */
const blank = (cell: string) => /^(|n\/a|—|–|-)$/i.test(plain(cell));
/** A cell that is nothing but a figure (`1.05`, `2.19×`, `56 %`), unlike `1 MiB`. */
const pureNumber = (cell: string) => /^[\d.,\s]+[×x%]?$/.test(plain(cell));

const parseNumber = (cell: string): number | undefined => {
  const m = number.exec(plain(cell));
  return m ? Number(m[1]!.replace(',', '.')) : undefined;
};

/** The Markdown tables of a text: header and data rows, separator dropped. */
export function tables(md: string): { header: string[]; rows: string[][] }[] {
  const out: { header: string[]; rows: string[][] }[] = [];
  const lines = md.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*\|/.test(lines[i]!) || !/^\s*\|[\s:|-]+\|\s*$/.test(lines[i + 1] ?? '')) continue;
    const header = cells(lines[i]!);
    const rows: string[][] = [];
    let j = i + 2;
    for (; j < lines.length && /^\s*\|/.test(lines[j]!); j++) rows.push(cells(lines[j]!));
    out.push({ header, rows });
    i = j;
  }
  return out;
}

/** The charts one benchmark section holds: one per ratio column of each of its tables. */
export function benchCharts(md: string): BenchChartData[] {
  const charts: BenchChartData[] = [];
  for (const { header, rows } of tables(md)) {
    if (rows.length === 0) continue;
    const share = (c: number, test: (cell: string) => boolean) => {
      const filled = rows.filter((r) => !blank(r[c] ?? ''));
      return filled.filter((r) => test(r[c]!)).length / Math.max(1, filled.length);
    };
    const numericShare = header.map((_, c) => share(c, (v) => parseNumber(v) !== undefined));
    // The label: the leading columns that are text (at most two: "scenario", "library").
    let labelCols = 0;
    while (labelCols < Math.min(2, header.length - 1) && share(labelCols, pureNumber) < 0.5) {
      labelCols++;
    }
    labelCols = Math.max(1, labelCols);
    header.forEach((h, c) => {
      if (c < labelCols || /^range/i.test(plain(h)) || !ratioHeader.test(plain(h))) return;
      if (numericShare[c]! < 0.5) return;
      const rangeCol = /^range/i.test(plain(header[c + 1] ?? '')) ? c + 1 : -1;
      const chartRows: BenchRow[] = [];
      for (const r of rows) {
        const value = parseNumber(r[c] ?? '');
        if (value === undefined) continue;
        const label = r.slice(0, labelCols).map(plain).filter(Boolean).join(' · ');
        const inCell = /\(([^)]*)\)/.exec(r[c] ?? '')?.[1];
        const range = rangeText.exec(rangeCol === -1 ? (inCell ?? '') : plain(r[rangeCol] ?? ''));
        chartRows.push(
          range ? { label, value, min: Number(range[1]), max: Number(range[2]) } : { label, value },
        );
      }
      if (chartRows.length > 0) {
        charts.push({ title: plain(h), subject: plain(header[0] ?? ''), rows: chartRows });
      }
    });
  }
  return charts;
}

/** The charts of a package's README benchmark section (none when it has no README yet). */
export function packageBenchCharts(pkg: string): BenchChartData[] {
  const file = readmePath(pkg);
  if (!existsSync(file)) return [];
  const bench = section(readFileSync(file, 'utf8'), benchHeading);
  return bench ? benchCharts(bench) : [];
}
