// The dialer's messages and how their echoes are checked; `oxirtc dial` (apps/oxirtc-cli/src/dial.rs)
// and pion-peer -dial (pion-peer/dial.go) generate and check exactly the same.
//
// Message i (0 <= i < messages), text and (with binary) binary:
//   without sizes: text "ping:<i>:" + "x" * size, binary max(size, 16) bytes
//   with sizes [s0, s1, ...]: exactly s = sizes[i % n] bytes each: text "ping:<i>:xxx..." cut to s,
//   binary byte j = (i*31 + j) & 255.
// Ordered channels: each kind must come back complete and in order. Unordered: complete, in any
// order. maxRetransmits set (partially reliable): at least 95 % of all, none corrupted.

/** The messages to send: `{ texts: string[], bins: Buffer[] }`. */
export function makeMessages({ messages, size, sizes, binary }) {
  const texts = [];
  const bins = [];
  for (let i = 0; i < messages; i++) {
    const exact = sizes ? sizes[i % sizes.length] : null;
    const text = `ping:${i}:` + 'x'.repeat(exact ?? size);
    texts.push(exact === null ? text : text.slice(0, exact));
    if (binary) {
      const b = Buffer.alloc(exact ?? Math.max(size, 16));
      for (let j = 0; j < b.length; j++) b[j] = (i * 31 + j) & 255;
      bins.push(b);
    }
  }
  return { texts, bins };
}

/** Counts echoes against the messages sent. `ordered`: must come back in order per kind. */
export class EchoCheck {
  constructor({ texts, bins }, { ordered, partial }) {
    // A partially reliable channel may drop any message: compare as a set even if ordered.
    Object.assign(this, { texts, bins, ordered: ordered && !partial, partial });
    this.pendingText = new Map();
    this.pendingBin = new Map();
    for (const t of texts) this.pendingText.set(t, (this.pendingText.get(t) || 0) + 1);
    for (const b of bins) { const k = b.toString('latin1'); this.pendingBin.set(k, (this.pendingBin.get(k) || 0) + 1); }
    this.ti = 0;
    this.bi = 0;
    this.echoed = 0;
    this.binaryEchoed = 0;
    this.mismatched = 0;
  }

  static take(map, key) {
    const n = map.get(key);
    if (!n) return false;
    if (n === 1) map.delete(key); else map.set(key, n - 1);
    return true;
  }

  /** One echo; string = text, Buffer = binary. */
  add(m) {
    if (typeof m === 'string') {
      if (this.ordered ? m === this.texts[this.ti] : EchoCheck.take(this.pendingText, m)) { this.ti++; this.echoed++; } else this.mismatched++;
    } else if (this.ordered ? (this.bins[this.bi] && this.bins[this.bi].equals(m)) : EchoCheck.take(this.pendingBin, m.toString('latin1'))) {
      this.bi++; this.binaryEchoed++;
    } else this.mismatched++;
  }

  /** Every message came back. */
  complete() { return this.echoed === this.texts.length && this.binaryEchoed === this.bins.length; }

  /** The check's verdict: all back (partially reliable: >= 95 %), nothing corrupted or out of order. */
  passed() {
    if (this.mismatched) return false;
    if (!this.partial) return this.complete();
    return (this.echoed + this.binaryEchoed) * 100 >= (this.texts.length + this.bins.length) * 95;
  }

  report() {
    return { sent: this.texts.length, echoed: this.echoed, binarySent: this.bins.length,
      binaryEchoed: this.binaryEchoed, mismatched: this.mismatched };
  }
}

/** Parses `0,16,262144` into sizes. */
export function parseSizes(s) {
  const sizes = String(s).split(',').map((x) => Number(x.trim()));
  if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`--sizes wants comma-separated byte counts, e.g. 0,262144, not ${s}`);
  return sizes;
}
