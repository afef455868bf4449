/** Runs work in the background; a failure is logged, never an unhandled rejection (which ends Node). */
export function detach(work: () => Promise<unknown>, label: string, log: (line: string) => void): void {
  Promise.resolve()
    .then(work)
    .catch((err: unknown) => log(`${label}: ${err instanceof Error ? err.message : String(err)}`));
}
