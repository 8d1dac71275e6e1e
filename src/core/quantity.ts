/**
 * A Kubernetes resource quantity as a number, for counts such as a node's
 * allocatable pods. The API server returns quantities in canonical form, so
 * 1000 pods come back as "1k" and 2000 as "2k": Number() alone reads NaN.
 */
const DECIMAL: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** "110" -> 110, "1k" -> 1000, "1.5k" -> 1500, "2e3" -> 2000, "1Ki" -> 1024; undefined when it is not a quantity. */
export function parseQuantity(q: string): number | undefined {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[kMGTPE])|(m|u|n))?$/.exec(
    q.trim(),
  );
  if (!m) return undefined;
  const [, num = '', exponent, suffix, small] = m;
  const base = Number(num);
  if (exponent) return Number(`${num}${exponent}`);
  if (small) return base / { m: 1e3, u: 1e6, n: 1e9 }[small as 'm' | 'u' | 'n'];
  if (suffix) return base * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
  return base;
}
