/** Dense linear algebra on row-major Float64Arrays, just enough for PCA: covariance and a symmetric eigensolver. */

/**
 * Sample covariance (n - 1 denominator) of the columns of an n × p row-major matrix that is already centred.
 * Returns a p × p row-major matrix.
 */
export function covariance(data: Float64Array, n: number, p: number): Float64Array {
  const out = new Float64Array(p * p);
  for (let r = 0; r < n; r++) {
    const offset = r * p;
    for (let i = 0; i < p; i++) {
      const xi = data[offset + i]!;
      if (xi === 0) continue;
      const row = i * p;
      for (let j = i; j < p; j++) out[row + j]! += xi * data[offset + j]!;
    }
  }
  const divisor = Math.max(1, n - 1);
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      const value = out[i * p + j]! / divisor;
      out[i * p + j] = value;
      out[j * p + i] = value;
    }
  }
  return out;
}

/**
 * Eigen-decomposition of a symmetric p × p matrix by the cyclic Jacobi method: accurate to machine precision, fine up to a
 * few hundred variables. Eigenvalues come back in descending order; column k of `vectors` (row-major p × p) belongs to
 * eigenvalue k, with its largest-magnitude entry made positive so results are reproducible.
 */
export function symmetricEigen(matrix: Float64Array, p: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(p * p);
  for (let i = 0; i < p; i++) v[i * p + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diagonal = 0;
    for (let i = 0; i < p; i++) {
      diagonal += a[i * p + i]! * a[i * p + i]!;
      for (let j = i + 1; j < p; j++) off += a[i * p + j]! * a[i * p + j]!;
    }
    if (off <= 1e-30 * Math.max(diagonal, 1e-300)) break;
    for (let i = 0; i < p - 1; i++) {
      for (let j = i + 1; j < p; j++) {
        const aij = a[i * p + j]!;
        if (Math.abs(aij) < 1e-300) continue;
        const aii = a[i * p + i]!;
        const ajj = a[j * p + j]!;
        const theta = (ajj - aii) / (2 * aij);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < p; k++) {
          const aik = a[i * p + k]!;
          const ajk = a[j * p + k]!;
          a[i * p + k] = c * aik - s * ajk;
          a[j * p + k] = s * aik + c * ajk;
        }
        for (let k = 0; k < p; k++) {
          const aki = a[k * p + i]!;
          const akj = a[k * p + j]!;
          a[k * p + i] = c * aki - s * akj;
          a[k * p + j] = s * aki + c * akj;
        }
        for (let k = 0; k < p; k++) {
          const vki = v[k * p + i]!;
          const vkj = v[k * p + j]!;
          v[k * p + i] = c * vki - s * vkj;
          v[k * p + j] = s * vki + c * vkj;
        }
      }
    }
  }
  const order = Array.from({ length: p }, (_, i) => i).sort((x, y) => a[y * p + y]! - a[x * p + x]!);
  const values = new Float64Array(p);
  const vectors = new Float64Array(p * p);
  order.forEach((source, k) => {
    values[k] = a[source * p + source]!;
    let largest = 0;
    for (let r = 0; r < p; r++) if (Math.abs(v[r * p + source]!) > Math.abs(largest)) largest = v[r * p + source]!;
    const sign = largest < 0 ? -1 : 1;
    for (let r = 0; r < p; r++) vectors[r * p + k] = sign * v[r * p + source]!;
  });
  return { values, vectors };
}
