// Pending job ids in submission order (FIFO).
export class JobQueue {
  #ids: string[] = []

  get size (): number {
    return this.#ids.length
  }

  push (id: string): void {
    this.#ids.push(id)
  }

  shift (): string | undefined {
    return this.#ids.shift()
  }

  /** 1 for the next job to start, undefined when the id is not queued. */
  positionOf (id: string): number | undefined {
    const index = this.#ids.indexOf(id)
    return index === -1 ? undefined : index + 1
  }

  remove (id: string): boolean {
    const index = this.#ids.indexOf(id)
    if (index !== -1) this.#ids.splice(index, 1)
    return index !== -1
  }

  drain (): string[] {
    const ids = this.#ids
    this.#ids = []
    return ids
  }
}
