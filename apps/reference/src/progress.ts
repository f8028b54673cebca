/**
 * Terminal progress per phase and per epoch (step, loss, rate, time left) through `cli-progress`
 * on a TTY, and plain lines (one per epoch) otherwise.
 *
 * @module
 */
import cliProgress from "cli-progress";

/** What a phase reports after each step. */
export interface StepInfo {
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
  readonly lr: number;
}

/** The progress sink the pipeline writes to. */
export interface Progress {
  /** A new phase of `total` steps. */
  phase(name: string, total: number, done: number): void;
  /** After a step; `done` is the number of steps finished in the phase. */
  step(done: number, info: StepInfo): void;
  /** At an epoch's end. */
  epochEnd(info: StepInfo & { readonly seconds: number; readonly extra?: string }): void;
  /** A line of text (between bars). */
  log(line: string): void;
  /** Ends the current bar. */
  stop(): void;
}

const fmtTime = (s: number): string =>
  !Number.isFinite(s)
    ? "?"
    : s < 90
      ? `${Math.round(s)}s`
      : `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;

/** Progress on a terminal: one `cli-progress` bar per phase, epoch summaries logged above it. */
const barProgress = (stream: NodeJS.WriteStream): Progress => {
  let multi: cliProgress.MultiBar | null = null;
  let bar: cliProgress.SingleBar | null = null;
  let name = "";
  const stop = () => {
    multi?.stop();
    multi = null;
    bar = null;
  };
  return {
    phase(n, total, done) {
      stop();
      name = n;
      const format =
        n === "geometry" || n === "trajectory plane"
          ? `${n.padEnd(8)} |{bar}| {percentage}% point {value}/{total} train loss {loss} eta {eta_formatted}`
          : `${n.padEnd(8)} |{bar}| {percentage}% step {value}/{total} epoch {epoch}/{epochs} loss {loss} lr {lr} eta {eta_formatted}`;
      multi = new cliProgress.MultiBar(
        { stream, format, hideCursor: true, etaBuffer: 50, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
      bar = multi.create(total, done, { epoch: "-", epochs: "-", loss: "-", lr: "-" });
    },
    step(done, info) {
      bar?.update(done, {
        epoch: info.epoch + 1,
        epochs: info.epochs,
        loss: Number.isFinite(info.loss) ? info.loss.toFixed(4) : "-",
        lr: info.lr.toPrecision(3),
      });
    },
    epochEnd(info) {
      multi?.log(
        `${name}: epoch ${info.epoch + 1}/${info.epochs} loss ${info.loss.toFixed(4)} lr ${info.lr.toPrecision(3)} ${info.seconds.toFixed(1)}s${info.extra === undefined ? "" : ` ${info.extra}`}\n`,
      );
      multi?.update(); // render now: a log is only written on the next redraw
    },
    log(line) {
      if (multi !== null) {
        multi.log(`${line}\n`);
        multi.update();
      } else stream.write(`${line}\n`);
    },
    stop,
  };
};

/** Progress as plain lines, for pipes and logs. */
const lineProgress = (write: (line: string) => void): Progress => {
  let name = "";
  let total = 0;
  let start = Date.now();
  let startDone = 0;
  let done = 0;
  return {
    phase(n, t, d) {
      name = n;
      total = t;
      done = d;
      startDone = d;
      start = Date.now();
      write(`${name}: ${total} steps${d > 0 ? ` (resuming at step ${d})` : ""}`);
    },
    step(d) {
      done = d;
    },
    epochEnd(info) {
      const elapsed = (Date.now() - start) / 1000;
      const rate = (done - startDone) / Math.max(elapsed, 1e-9);
      const left = (total - done) / rate;
      write(
        `${name}: epoch ${info.epoch + 1}/${info.epochs} step ${done}/${total} loss ${info.loss.toFixed(4)} lr ${info.lr.toPrecision(3)} ${info.seconds.toFixed(1)}s/epoch, ${fmtTime(left)} left${info.extra === undefined ? "" : ` ${info.extra}`}`,
      );
    },
    log: write,
    stop() {},
  };
};

/** Bars on a TTY, lines otherwise; `quiet` prints nothing but `log` lines. */
export const makeProgress = (
  stream: NodeJS.WriteStream = process.stdout,
  quiet = false,
): Progress => {
  if (quiet) {
    const p = lineProgress(() => {});
    return { ...p, log: (l) => stream.write(`${l}\n`) };
  }
  return stream.isTTY === true ? barProgress(stream) : lineProgress((l) => stream.write(`${l}\n`));
};
