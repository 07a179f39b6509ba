/**
 * Text forms of the impairment settings the command line takes: rates (`1mbit`), percentages
 * (`5%`) and durations (`100ms`, `100ms±20ms`).
 * @module
 */

const RATE_UNITS: Readonly<Record<string, number>> = {
  bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9,
  bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9, // bytes per second, as tc spells them
};

/**
 * A rate as tc writes it, in bits per second: `1mbit`, `256kbit`, `10mbps` (bytes/s), a bare number is bit/s.
 * @throws {RangeError} for anything else.
 */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m?.[2]?.toLowerCase() || 'bit';
  const factor = RATE_UNITS[unit];
  const value = m ? Number(m[1]) * (factor ?? NaN) : NaN;
  if (!(value > 0)) throw new RangeError(`A rate is a number above 0 with a unit such as 1mbit, 256kbit, 2gbit or 10mbps (bytes/s), got ${JSON.stringify(text)}`);
  return value;
}

/**
 * A percentage: `5%` or `5` → 0.05.
 * @throws {RangeError} outside 0–100 %.
 */
export function parsePercent(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  const v = m ? Number(m[1]) : NaN;
  if (!(v >= 0 && v <= 100)) throw new RangeError(`${what} needs a percentage from 0 to 100, e.g. 5%, got ${JSON.stringify(text)}`);
  return v / 100;
}

/**
 * Milliseconds: `100`, `100ms`, `1.5s`.
 * @throws {RangeError} for anything else.
 */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/.exec(text);
  if (!m) throw new RangeError(`${what} needs a duration such as 100ms or 1.5s, got ${JSON.stringify(text)}`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** `100ms`, `100ms±20ms` or `100+-20` → lag and jitter in ms. */
export function parseLag(text: string): { lag: number; jitter: number | undefined } {
  const [lag, jitter, extra] = text.split(/±|\+-|\+\/-/);
  if (extra !== undefined) throw new RangeError(`--lag takes MS or MS±JITTER, got ${JSON.stringify(text)}`);
  return { lag: parseDuration(lag!, '--lag'), jitter: jitter === undefined ? undefined : parseDuration(jitter, '--lag jitter') };
}
