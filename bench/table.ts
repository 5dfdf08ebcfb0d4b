/**
 * The one output shape of every benchmark: a titled table whose cells are numbers or text,
 * printed for a terminal or as Markdown for docs/performance.md. Numbers keep full precision
 * in the table (smoke tests check them); formatting rounds only when printing.
 */
export type Cell = string | number | boolean | null;

export interface Table {
  /** Short key (`upload`, `manifest`, ...) the smoke tests and `--only` use. */
  id: string;
  title: string;
  columns: string[];
  rows: Cell[][];
  /** Lines printed under the table: what was measured, and how. */
  notes: string[];
}

export function table(id: string, title: string, columns: string[]): Table {
  return { id, title, columns, rows: [], notes: [] };
}

/** The row as an object keyed by column name, for tests and for computing ratios. */
export function rowObject(t: Table, row: Cell[]): Record<string, Cell> {
  return Object.fromEntries(t.columns.map((c, i) => [c, row[i] ?? null]));
}

export function rowsOf(t: Table): Array<Record<string, Cell>> {
  return t.rows.map((r) => rowObject(t, r));
}

export function formatCell(v: Cell): string {
  if (v === null) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function isNumeric(t: Table, col: number): boolean {
  return t.rows.some((r) => typeof r[col] === 'number') && t.rows.every((r) => typeof r[col] !== 'string');
}

export function formatText(t: Table): string {
  const cells = t.rows.map((r) => t.columns.map((_, i) => formatCell(r[i] ?? null)));
  const widths = t.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const pad = (s: string, i: number): string => (isNumeric(t, i) ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const line = (r: string[]): string => r.map(pad).join('  ').trimEnd();
  const out = [`== ${t.title}`, line(t.columns), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(line(r));
  for (const n of t.notes) out.push(`  * ${n}`);
  return out.join('\n');
}

export function formatMarkdown(t: Table): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [`### ${t.title}`, '', `| ${t.columns.map(esc).join(' | ')} |`];
  out.push(`|${t.columns.map((_, i) => (isNumeric(t, i) ? ' ---: ' : ' --- ')).join('|')}|`);
  for (const r of t.rows) out.push(`| ${t.columns.map((_, i) => esc(formatCell(r[i] ?? null))).join(' | ')} |`);
  if (t.notes.length) {
    out.push('');
    for (const n of t.notes) out.push(`- ${n}`);
  }
  return out.join('\n');
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** "64M", "512MiB", "2G", "1.5g", "4096" (bytes) → bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new Error(`not a size: "${text}" (use e.g. 64M, 512M, 2G)`);
  const unit = { '': 1, k: KiB, m: MiB, g: GiB }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * unit);
}

export function sizeLabel(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

export function round(v: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** One goal of the issue, judged from a run's figures. `met` is null when the run cannot tell (e.g. a smoke run). */
export interface Goal {
  benchmark: string;
  goal: string;
  measured: string;
  met: boolean | null;
  /** When not met: what limits it. */
  limit?: string;
}

export interface BenchOutput {
  tables: Table[];
  goals: Goal[];
}

export function goalsTable(goals: Goal[]): Table {
  const t = table('goals', 'Goals', ['benchmark', 'goal', 'measured', 'met', 'what limits it']);
  for (const g of goals) t.rows.push([g.benchmark, g.goal, g.measured, g.met === null ? 'n/a' : g.met, g.limit ?? '']);
  return t;
}

export type Log = (line: string) => void;
