/** The time now in seconds since the epoch, with fractions: how job and server records store times. */
export function nowSeconds (): number {
  return Date.now() / 1000
}
