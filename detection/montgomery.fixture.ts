/**
 * Montgomery, Introduction to Statistical Quality Control, Table 9.1: 30 observations, the first 20 from N(10, 1) and
 * the last 10 from N(11, 1). Used by the worked CUSUM (Example 9.1) and EWMA (Example 9.2) examples.
 */
export const MONTGOMERY_TABLE_9_1 = [
  9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.2, 10.34, 9.03, 11.47, 10.51, 9.4, 10.08, 9.37, 10.62, 10.31,
  8.52, 10.84, 10.9, 9.33, 12.29, 11.5, 10.6, 11.08, 10.38, 11.62, 11.31, 10.52,
] as const;
