/**
 * The live part of the terminal: cli-progress's bar while the zip uploads, then a status line
 * redrawn in place under the permanent lines. Without a terminal (CI logs, pipes) only plain
 * lines are written: a bar or a redrawn line would fill a log with control characters.
 */
import { Presets, SingleBar } from 'cli-progress';
import { formatBytes } from '../lib/zip/format';
import { formatDuration } from './view';

const SPINNER = ['-', '\\', '|', '/'];

export class LiveView {
  private ticker?: { text: () => string; timer: NodeJS.Timeout; frame: number };

  constructor(
    private readonly out: NodeJS.WriteStream | NodeJS.WritableStream,
    readonly interactive: boolean,
  ) {}

  /** A permanent line (above the redrawn one). */
  line(text: string): void {
    this.clearTicker();
    this.out.write(`${text}\n`);
    this.drawTicker();
  }

  /** Shows `text()` in place, redrawn a few times a second (terminals only). */
  status(text: () => string): void {
    if (!this.interactive) return;
    this.stopStatus();
    const timer = setInterval(() => this.drawTicker(), 250);
    timer.unref();
    this.ticker = { text, timer, frame: 0 };
    this.drawTicker();
  }

  stopStatus(): void {
    if (!this.ticker) return;
    clearInterval(this.ticker.timer);
    this.clearTicker();
    this.ticker = undefined;
  }

  /** Upload progress: a bar in a terminal, a line every quarter elsewhere. */
  upload(total: number, label: string): { update(loaded: number): void; done(): void } {
    const started = Date.now();
    if (this.interactive) {
      this.stopStatus();
      const bar = new SingleBar(
        {
          format: `Uploading ${label} {bar} {percentage}% | {done} of {size} | {rate}`,
          hideCursor: true,
          clearOnComplete: true,
          stream: this.out,
          barsize: 30,
        },
        Presets.shades_classic,
      );
      const payload = (loaded: number) => ({
        done: formatBytes(loaded),
        size: formatBytes(total),
        rate: `${formatBytes(loaded / Math.max((Date.now() - started) / 1000, 0.001))}/s`,
      });
      bar.start(Math.max(total, 1), 0, payload(0));
      return {
        update: (loaded) => bar.update(loaded, payload(loaded)),
        done: () => {
          bar.update(Math.max(total, 1), payload(total));
          bar.stop();
        },
      };
    }
    this.line(`Uploading ${label} (${formatBytes(total)})`);
    // Small zips upload in a moment: progress lines would only be noise in a log.
    let quarter = total < 16 * 1024 * 1024 ? 4 : 0;
    return {
      update: (loaded) => {
        const q = Math.floor((loaded / Math.max(total, 1)) * 4);
        if (q > quarter && q < 4) {
          quarter = q;
          this.line(`  ${q * 25}% (${formatBytes(loaded)}, ${formatDuration(Date.now() - started)})`);
        }
      },
      done: () => undefined,
    };
  }

  private drawTicker(): void {
    if (!this.ticker) return;
    const frame = SPINNER[this.ticker.frame++ % SPINNER.length];
    this.out.write(`\r\x1b[2K${frame} ${this.ticker.text()}`);
  }

  private clearTicker(): void {
    if (this.ticker) this.out.write('\r\x1b[2K');
  }
}
