/** A batch id in the contract's shape: `<client>-<epochMillis>-<n>`. */
export function formatBatchId(client: string, now: number, n: number): string {
  return `${client}-${now}-${n}`;
}
